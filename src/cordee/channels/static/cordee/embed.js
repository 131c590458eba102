// Cordée form embed: <script src="https://CORDEE/static/cordee/embed.js" data-form="SLUG" async></script>
// Puts the form in an iframe where the script stands. When the visitor accepted audience
// cookies (consent.js), their anonymous visitor id goes along, to link their visits to the
// sign-up. No dependency, no inline style attribute.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var slug = script.getAttribute("data-form");
  if (!slug || !/^[a-z0-9-]+$/.test(slug)) return;
  var base = new URL(script.src).origin;
  var lang = script.getAttribute("data-lang") || (document.documentElement.lang || "fr").slice(0, 2);
  var url = new URL(base + "/f/" + slug + "/");
  url.searchParams.set("embed", "1");
  url.searchParams.set("lang", lang === "en" ? "en" : "fr");
  url.searchParams.set("page", location.origin + location.pathname);
  var match = document.cookie.match(/(?:^|;\s*)cordee_consent=([^;]+)/);
  if (match) {
    var parts = decodeURIComponent(match[1]).split(".");
    if (parts[1] === "1" && parts[2]) url.searchParams.set("v", parts[2]);
  }
  var frame = document.createElement("iframe");
  frame.src = url.toString();
  frame.title = script.getAttribute("data-title") || "Formulaire";
  frame.loading = "lazy";
  frame.style.width = "100%";
  frame.style.maxWidth = "40rem";
  frame.style.border = "0";
  frame.style.height = "640px";
  script.parentNode.insertBefore(frame, script.nextSibling);
  window.addEventListener("message", function (event) {
    if (event.origin !== base || event.source !== frame.contentWindow) return;
    var data = event.data || {};
    if (data.cordee === "form-height" && typeof data.height === "number") {
      frame.style.height = Math.min(Math.max(data.height + 8, 200), 4000) + "px";
    }
  });
})();
