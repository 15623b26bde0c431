// Keyboard review on a finding's page: one key per class and age group, v virtual, Enter saves
// (and opens the next finding), j / k next and previous. Keys are read by their place on the
// keyboard (ev.code), so they work on a Thai layout too; keys typed into a text field, and Enter
// on a link or button, are the field's or the link's own.
(function () {
  "use strict";
  var KEYS = {
    Digit1: "1", Digit2: "2", Digit3: "3", KeyA: "a", KeyP: "p", KeyU: "u", Digit0: "0",
    KeyV: "v", KeyJ: "j", KeyK: "k", KeyM: "m", KeyB: "b", KeyD: "d"
  };
  // Evidence thumbnails: nothing is fetched until asked; the image comes from a blob: URL that is
  // dropped when the next one replaces it, so no evidence is cached by the browser.
  var shownUrl = null;
  function showMedia(sharp) {
    var card = document.getElementById("media");
    var img = document.getElementById("media-img");
    var why = document.getElementById("media-why");
    if (!card || !img) return;
    var url = "/findings/" + card.getAttribute("data-finding") + "/thumbnail" + (sharp ? "/sharp" : "");
    var opts = { method: sharp ? "POST" : "GET", cache: "no-store", credentials: "same-origin" };
    if (sharp) opts.headers = { "X-CSRF-Token": card.getAttribute("data-csrf") };
    opts.redirect = "manual";  // an ended session is a message, never the sign-in page as an image
    fetch(url, opts).then(function (res) {
      if (res.type === "opaqueredirect") throw new Error(card.getAttribute("data-ended"));
      var type = res.headers.get("content-type") || "";
      if (!res.ok || type.indexOf("image/png") !== 0) {
        return res.text().then(function (msg) { throw new Error(msg.slice(0, 300)); });
      }
      return res.blob();
    }).then(function (blob) {
      if (shownUrl) URL.revokeObjectURL(shownUrl);
      shownUrl = URL.createObjectURL(blob);
      img.src = shownUrl;
      img.hidden = false;
      why.hidden = true;
      img.setAttribute("data-sharp", sharp ? "1" : "0");
      var btn = document.getElementById("media-sharp");
      if (btn) btn.disabled = sharp;
    }).catch(function (err) {
      why.textContent = err.message;
      why.hidden = false;
    });
  }
  document.addEventListener("click", function (ev) {
    var t = ev.target && ev.target.closest ? ev.target.closest("button") : null;
    if (!t) return;
    if (t.id === "media-show") showMedia(false);
    if (t.id === "media-sharp") showMedia(true);
    if (t.id === "tick-all") {
      var boxes = document.querySelectorAll("input[name=also]");
      var all = Array.prototype.every.call(boxes, function (b) { return b.checked; });
      boxes.forEach(function (b) { b.checked = !all; });
    }
  });
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
        form.requestSubmit();  // the submit handler marks it sent
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
    if (key === "d") {  // tick (or untick) every near-duplicate for the same review
      var boxes = document.querySelectorAll("input[name=also]");
      if (boxes.length) {
        ev.preventDefault();
        var all = Array.prototype.every.call(boxes, function (b) { return b.checked; });
        boxes.forEach(function (b) { b.checked = !all; });
      }
      return;
    }
    if (key === "m" || key === "b") {
      var button = document.getElementById(key === "m" ? "media-show" : "media-sharp");
      if (button && !button.disabled) { ev.preventDefault(); showMedia(key === "b"); }
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
  // The review form is sent without leaving the page: the next finding's page is fetched and put
  // in place (its address in the history), so reviewing is one key press a finding, no reload.
  function swapTo(res, push) {
    return res.text().then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var main = doc.getElementById("main");
      if (!main) { window.location.assign(push ? res.url : window.location.href); return; }
      if (shownUrl) { URL.revokeObjectURL(shownUrl); shownUrl = null; }
      document.getElementById("main").replaceWith(main);
      document.title = doc.title;
      if (push) window.history.pushState({ ocsea: 1 }, "", res.url);
      var h1 = main.querySelector("h1");
      if (h1) { h1.tabIndex = -1; h1.focus(); }  // the new finding's heading, for keys and readers
      sent = false;
      window.scrollTo(0, 0);
    });
  }
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (form.id !== "review" || !window.fetch || !window.DOMParser) { sent = true; return; }
    ev.preventDefault();
    if (sent) return;  // one review a press: a second click or Enter while it is sent does nothing
    sent = true;
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (res) {
        var finding = res.url.indexOf("/findings/") !== -1;
        if (res.redirected && res.ok && finding) return swapTo(res, true);  // the next finding
        if (res.redirected) { window.location.assign(res.url); return; }  // the queue, or sign in
        return swapTo(res, false);  // a refusal for this form: shown in place
      })
      .catch(function () { window.location.reload(); });  // never posted twice: see what was saved
  });
  // Back and forward between findings shown in place reload that finding; a link within the page
  // ("#r12") is left alone.
  window.addEventListener("popstate", function (ev) { if (ev.state && ev.state.ocsea) window.location.reload(); });
  window.addEventListener("pageshow", function () { sent = false; });
})();
