// Cordée cookie consent: <script src="https://CORDEE/static/cordee/consent.js" data-partner="SLUG" async></script>
// A banner with "Accepter", "Refuser" and "Choisir", the three the same size and colour:
// refusing is as easy as accepting. The choice is kept in a first-party cookie on the partner's
// site (cordee_consent = wording id . 1 or 0 . visitor id) and recorded, anonymously, by Cordée
// with the version of the text shown. Page views are sent only after "Accepter". No dependency;
// styles set through the DOM (no inline style attribute, no eval): works under a strict CSP.
// window.CordeeConsent.open() shows the banner again (for a "Cookies" link in the footer).
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var partner = script.getAttribute("data-partner");
  if (!partner || !/^[a-z0-9-]+$/.test(partner)) return;
  var base = new URL(script.src).origin + "/c/" + partner + "/";
  var COOKIE = "cordee_consent";
  var SIX_MONTHS = 182 * 24 * 3600;
  var lang = (script.getAttribute("data-lang") || document.documentElement.lang || "fr").slice(0, 2);
  var config = null;
  var banner = null;

  function readCookie() {
    var match = document.cookie.match(/(?:^|;\s*)cordee_consent=([^;]+)/);
    if (!match) return null;
    var parts = decodeURIComponent(match[1]).split(".");
    if (parts.length !== 3) return null;
    return { wording: parseInt(parts[0], 10), analytics: parts[1] === "1", visitor: parts[2] };
  }

  function writeCookie(value) {
    var secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie = COOKIE + "=" + encodeURIComponent(value) + "; Max-Age=" + SIX_MONTHS +
      "; Path=/; SameSite=Lax" + secure;
  }

  function newVisitor() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function post(path, body) {
    // text/plain keeps it a "simple" CORS request (no preflight); the server reads JSON.
    return fetch(base + path, {
      method: "POST", mode: "cors", credentials: "omit", keepalive: true,
      headers: { "Content-Type": "text/plain" }, body: JSON.stringify(body)
    });
  }

  function pageView(visitor) {
    post("view/", { visitor: visitor, page: location.origin + location.pathname });
  }

  function decide(analytics) {
    var visitor = analytics ? newVisitor() : "";
    writeCookie(config.wording + "." + (analytics ? "1" : "0") + "." + visitor);
    post("choice/", {
      analytics: analytics, wording: config.wording, visitor: visitor,
      page: location.origin + location.pathname
    }).then(function () { if (analytics) pageView(visitor); });
    close();
  }

  function css(el, rules) {
    for (var key in rules) el.style[key] = rules[key];
    return el;
  }

  function button(label, action, name) {
    var b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.setAttribute("data-cordee", name);
    css(b, { flex: "1 1 8rem", padding: "0.6rem 1rem", border: "2px solid #1f3a5f",
      background: "#1f3a5f", color: "#fff", borderRadius: "0.3rem", fontSize: "1rem",
      fontWeight: "600", cursor: "pointer", minHeight: "2.75rem" });
    b.addEventListener("click", action);
    return b;
  }

  function close() {
    if (banner && banner.parentNode) banner.parentNode.removeChild(banner);
    banner = null;
  }

  function open() {
    if (!config || banner) return;
    var labels = config.labels;
    banner = css(document.createElement("div"), {
      position: "fixed", left: "0", right: "0", bottom: "0", zIndex: "2147483000",
      background: "#fff", color: "#111", borderTop: "3px solid #1f3a5f", padding: "1rem",
      boxShadow: "0 -2px 12px rgba(0,0,0,.2)", fontFamily: "system-ui, sans-serif", fontSize: "1rem"
    });
    banner.setAttribute("role", "dialog");
    banner.setAttribute("aria-label", labels.title);
    banner.id = "cordee-consent";
    var title = css(document.createElement("strong"), { display: "block", marginBottom: "0.3rem" });
    title.textContent = labels.title;
    var intro = css(document.createElement("p"), { margin: "0 0 0.3rem" });
    intro.textContent = labels.intro;
    var text = css(document.createElement("p"), { margin: "0 0 0.8rem" });
    text.textContent = config.text;
    var row = css(document.createElement("div"), { display: "flex", flexWrap: "wrap", gap: "0.5rem" });
    var panel = css(document.createElement("div"), { display: "none", marginTop: "0.8rem" });
    var box = document.createElement("input");
    box.type = "checkbox";
    box.id = "cordee-analytics";
    var label = css(document.createElement("label"), { marginRight: "1rem" });
    label.htmlFor = box.id;
    label.textContent = " " + labels.analytics;
    panel.appendChild(box);
    panel.appendChild(label);
    panel.appendChild(button(labels.save, function () { decide(box.checked); }, "save"));
    row.appendChild(button(labels.accept, function () { decide(true); }, "accept"));
    row.appendChild(button(labels.refuse, function () { decide(false); }, "refuse"));
    row.appendChild(button(labels.choose, function () { panel.style.display = "block"; }, "choose"));
    banner.appendChild(title);
    banner.appendChild(intro);
    banner.appendChild(text);
    banner.appendChild(row);
    banner.appendChild(panel);
    document.body.appendChild(banner);
  }

  window.CordeeConsent = { open: function () { close(); open(); } };

  fetch(base + "config/?lang=" + (lang === "en" ? "en" : "fr"), { mode: "cors", credentials: "omit" })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (data) {
      if (!data) return;
      config = data;
      var saved = readCookie();
      // A new version of the text asks again; otherwise the saved choice holds.
      if (saved && saved.wording === config.wording) {
        if (saved.analytics && saved.visitor) pageView(saved.visitor);
        return;
      }
      if (document.body) open();
      else document.addEventListener("DOMContentLoaded", open);
    });
})();
