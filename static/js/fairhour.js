// Fairhour's only hand-written script: the running timer's clock, and keeping keyboard
// focus on the timer when htmx replaces it. No framework, no build.
(function () {
  "use strict";
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function show(el) {
    // Count from the server's clock, not the device's (which may be off by minutes).
    if (el.fhOffset === undefined) { el.fhOffset = Number(el.dataset.serverNow || 0) * 1000 - Date.now(); }
    if (!el.dataset.serverNow) { el.fhOffset = 0; }
    var since = Number(el.dataset.elapsedSince) * 1000;
    var secs = Math.max(0, Math.floor((Date.now() + el.fhOffset - since) / 1000));
    el.textContent = Math.floor(secs / 3600) + ":" + pad(Math.floor(secs / 60) % 60) + ":" + pad(secs % 60);
  }
  function tick() { document.querySelectorAll("[data-elapsed-since]").forEach(show); }
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSwap", tick);
  // The Start/Stop button a keyboard user pressed is gone after the swap: focus its successor.
  document.addEventListener("htmx:afterSettle", function (event) {
    var timer = document.getElementById("timer");
    var path = event.detail && event.detail.requestConfig ? event.detail.requestConfig.path : "";
    if (timer && /\/timer\//.test(path) && !timer.contains(document.activeElement)) {
      var button = timer.querySelector("button");
      if (button) { button.focus(); }
    }
  });
  setInterval(tick, 1000);
})();
