// The segment builder swaps its conditions on every change. htmx "settles" the style
// attribute of elements that keep their id, which the Content-Security-Policy (no inline
// style) refuses: settle only the attributes we need.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  if (window.htmx) {
    window.htmx.config.attributesToSettle = ["class", "width", "height"];
  }
});
