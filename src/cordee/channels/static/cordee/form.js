// Tells the partner page embedding this form (embed.js) how tall it is, so that the iframe
// shows it whole. No dependency, no inline code (the Content-Security-Policy forbids it).
(function () {
  "use strict";
  if (window.parent === window) return;
  function send() {
    var height = document.documentElement.scrollHeight;
    window.parent.postMessage({ cordee: "form-height", height: height }, "*");
  }
  window.addEventListener("load", send);
  window.addEventListener("resize", send);
  document.addEventListener("DOMContentLoaded", function () {
    send();
    // Late changes (web fonts, error messages) change the height too.
    if (window.ResizeObserver) new ResizeObserver(send).observe(document.body);
  });
})();
