// "Copier" buttons next to the embed codes (no inline handler: the CSP forbids them).
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button) return;
  var source = document.getElementById(button.getAttribute("data-copy"));
  if (source && navigator.clipboard) navigator.clipboard.writeText(source.textContent);
});
