// Cordée: the little script the pages need. Served from 'self' (the CSP allows no inline script).
"use strict";

// A form marked data-busy-on-submit shows that it is working and cannot be sent twice
// (uploading a large file takes a while).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-busy-on-submit")) {
    return;
  }
  const button = form.querySelector("button[type=submit]");
  if (button) {
    button.setAttribute("aria-busy", "true");
    // Disable after the submit has gone: a disabled button does not submit its own value.
    window.setTimeout(() => { button.disabled = true; }, 0);
  }
});

// Coming back to the page with the browser's Back button: the form can be sent again.
window.addEventListener("pageshow", () => {
  for (const button of document.querySelectorAll("form[data-busy-on-submit] button[type=submit]")) {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
});
