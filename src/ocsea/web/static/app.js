// Keyboard review on a finding's page: one key per class and age group, v virtual, Enter saves
// (and opens the next finding), j / k next and previous. Keys are read by their place on the
// keyboard (ev.code), so they work on a Thai layout too; keys typed into a text field, and Enter
// on a link or button, are the field's or the link's own.
(function () {
  "use strict";
  var KEYS = {
    Digit1: "1", Digit2: "2", Digit3: "3", KeyA: "a", KeyP: "p", KeyU: "u", Digit0: "0",
    KeyV: "v", KeyJ: "j", KeyK: "k"
  };
  var sent = false;
  document.addEventListener("keydown", function (ev) {
    var form = document.getElementById("review");
    var target = ev.target;
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.repeat) return;
    var tag = target && target.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT" || (tag === "INPUT" && target.type !== "radio" && target.type !== "checkbox")) return;
    if (ev.key === "Enter") {
      // Only on the page itself or inside the review form: Enter on "sign out" signs out.
      if (!form || sent || (target !== document.body && !form.contains(target))) return;
      if (form.querySelector("input[name=classification]:checked")) {
        ev.preventDefault();
        sent = true;
        form.requestSubmit();
      }
      return;
    }
    var key = KEYS[ev.code];
    if (!key) return;
    if (key === "j" || key === "k") {
      var link = document.getElementById(key === "j" ? "next" : "prev");
      if (link) { ev.preventDefault(); window.location.assign(link.href); }
      return;
    }
    if (!form) return;
    var inputs = form.querySelectorAll("input[data-key]");
    for (var i = 0; i < inputs.length; i++) {
      if (inputs[i].getAttribute("data-key") === key) {
        ev.preventDefault();
        var input = inputs[i];
        if (input.type === "checkbox") { input.checked = !input.checked; } else { input.checked = true; }
        input.focus();
        return;
      }
    }
  });
  document.addEventListener("submit", function () { sent = true; });
})();
