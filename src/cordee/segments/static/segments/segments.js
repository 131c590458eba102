// The segment builder.
//
// A typed value (a condition's value, a number of seasons or days) asks only for the count: its
// own request answers into #seg-result and never redraws the conditions, so nothing replaces
// the field being typed in. The conditions are redrawn when their shape changes (a criterion,
// an operator, a group, a button). If a person types while such a redraw is on its way, what
// they typed after it was sent is put back into the redrawn fields (with the caret), and the
// count asked again: a fast typist never loses a character.
"use strict";
(() => {
  const TYPED = "input[type=text], input[type=number], textarea";
  let redraw = null; // {xhr, keep, typed: Map(name → {value, start, end})}

  document.addEventListener("DOMContentLoaded", () => {
    if (window.htmx) {
      // htmx "settles" the style attribute of elements that keep their id, which the
      // Content-Security-Policy (no inline style) refuses: settle only what we need.
      window.htmx.config.attributesToSettle = ["class", "width", "height"];
    }
  });

  // The form redraws the conditions on "change"; a typed field fires "change" when it loses
  // focus, that is when the person moves on to type in the next one: that must not redraw.
  document.addEventListener(
    "change",
    (event) => {
      const field = event.target;
      if (field instanceof Element && field.matches(TYPED) && field.closest("#builder")) {
        event.stopPropagation();
      }
    },
    true,
  );

  document.addEventListener("htmx:configRequest", (event) => {
    const target = event.detail.target;
    if (!target || target.id !== "workspace") return;
    // The values are gathered: whatever is typed from now on is not in this request.
    const action = String(event.detail.formData.get("action") || "");
    // Removing a condition renumbers the ones after it, and pasted JSON replaces them all:
    // a field's name would then point at another condition, so nothing is put back.
    const keep = !action.startsWith("remove:") && action !== "json";
    redraw = { xhr: null, keep, typed: new Map() };
  });

  document.addEventListener("htmx:beforeRequest", (event) => {
    if (redraw && !redraw.xhr && event.detail.target && event.detail.target.id === "workspace") {
      redraw.xhr = event.detail.xhr;
    }
  });

  document.addEventListener(
    "input",
    (event) => {
      const field = event.target;
      if (!redraw || !(field instanceof HTMLInputElement) || !field.name) return;
      if (!field.closest("#workspace")) return;
      let start = null;
      let end = null;
      try {
        start = field.selectionStart;
        end = field.selectionEnd;
      } catch (_error) {
        // number inputs have no selection
      }
      redraw.typed.set(field.name, { value: field.value, start, end });
    },
    true,
  );

  function putBack(typed) {
    const form = document.getElementById("builder");
    if (!form) return;
    for (const [name, kept] of typed) {
      const field = form.elements.namedItem(name);
      if (!(field instanceof HTMLInputElement) || field.value === kept.value) continue;
      field.value = kept.value;
      if (document.activeElement === field && kept.start !== null) {
        try {
          field.setSelectionRange(kept.start, kept.end);
        } catch (_error) {
          // number inputs have no selection
        }
      }
      // Its own live count, as if typed now (its request was sent from the field replaced).
      window.htmx.trigger(field, "input");
    }
  }

  // htmx gives the focus back to the redrawn field but not a selection that starts at 0 (a
  // value selected whole, a caret before the first character): the next key would then be
  // typed before the old value instead of over it. Keep the selection and put it back.
  let selection = null; // {name, value, start, end} of the focused field before a redraw

  document.addEventListener("htmx:beforeSwap", (event) => {
    selection = null;
    const target = event.detail.target;
    const field = document.activeElement;
    if (!target || target.id !== "workspace" || !(field instanceof HTMLInputElement)) return;
    if (!field.name || !field.closest("#workspace")) return;
    try {
      selection = {
        name: field.name,
        value: field.value,
        start: field.selectionStart,
        end: field.selectionEnd,
      };
    } catch (_error) {
      // number inputs have no selection
    }
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    let typed = new Map();
    if (redraw && redraw.xhr && event.detail.xhr === redraw.xhr) {
      const keep = redraw.keep;
      typed = redraw.typed;
      redraw.typed = new Map();
      if (keep) putBack(typed);
    }
    const kept = selection;
    selection = null;
    if (!kept || kept.start === null || typed.has(kept.name)) return;
    const form = document.getElementById("builder");
    const field = form && form.elements.namedItem(kept.name);
    if (!(field instanceof HTMLInputElement) || field.value !== kept.value) return;
    if (document.activeElement !== field) field.focus();
    try {
      field.setSelectionRange(kept.start, kept.end);
    } catch (_error) {
      // number inputs have no selection
    }
  });

  document.addEventListener("htmx:afterRequest", (event) => {
    if (redraw && event.detail.xhr === redraw.xhr) redraw = null;
  });
})();
