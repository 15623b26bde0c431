// Keyboard review on a finding's page: one key per class and age group, v virtual, Enter saves
// (and goes to the next finding), j / k next and previous. Keys typed into a text field are the
// field's own.
(function () {
  "use strict";
  document.addEventListener("keydown", function (ev) {
    var form = document.getElementById("review");
    var target = ev.target;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (target && (target.tagName === "TEXTAREA" || (target.tagName === "INPUT" && target.type === "text"))) return;
    var key = ev.key;
    if (key === "j" || key === "k") {
      var link = document.getElementById(key === "j" ? "next" : "prev");
      if (link) { ev.preventDefault(); window.location.assign(link.href); }
      return;
    }
    if (!form) return;
    if (key === "Enter") {
      if (form.querySelector("input[name=classification]:checked")) { ev.preventDefault(); form.requestSubmit(); }
      return;
    }
    var input = form.querySelector('input[data-key="' + key + '"]');
    if (input) {
      ev.preventDefault();
      if (input.type === "checkbox") { input.checked = !input.checked; } else { input.checked = true; }
      input.focus();
    }
  });
})();
