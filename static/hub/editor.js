// The recipe editor's small enhancements of server-rendered, native controls (htmx does
// the saving): live pickers, Insert data, readable chips, focus after swaps, save state.
(function () {
  "use strict";
  var labels = {}; // reference -> readable label, learnt from Insert data lists

  function editor() { return document.querySelector("[data-editor]"); }

  // ------------------------------------------------------------ save state
  function saveState(text) {
    var el = document.getElementById("save-state");
    if (el) el.textContent = text;
  }
  document.addEventListener("htmx:beforeRequest", function (e) {
    var ed = editor();
    var form = e.detail.elt && e.detail.elt.closest && e.detail.elt.closest(".ed-form, .ed-head");
    if (ed && form) saveState(ed.dataset.saving);
  });
  ["htmx:responseError", "htmx:sendError"].forEach(function (name) {
    document.addEventListener(name, function () {
      var ed = editor();
      if (ed) saveState(ed.dataset.saveFailed);
    });
  });

  // ------------------------------------------------------------ focus after swaps
  function typing() {
    var a = document.activeElement;
    return a && a !== document.body && a.isConnected && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName);
  }
  function focusElement(el) {
    if (!el) return;
    var closed = el.closest("details:not([open])");
    if (closed) closed.open = true;
    if (!el.matches("a, button, input, select, textarea, [tabindex]")) el.setAttribute("tabindex", "-1");
    el.focus();
    el.scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("htmx:afterSettle", function () {
    var steps = document.getElementById("steps");
    if (steps && steps.dataset.focusTarget) {
      var wanted = document.getElementById(steps.dataset.focusTarget);
      steps.dataset.focusTarget = "";
      if (wanted) { focusElement(wanted); return; }
    }
    var marked = document.querySelector("[data-focus]");
    if (marked) {
      marked.removeAttribute("data-focus");
      if (!typing() || marked.closest(".ed-result, #publish-panel")) focusElement(marked);
    }
  });

  // ------------------------------------------------------------ problems link to fields
  document.addEventListener("click", function (e) {
    var link = e.target.closest("[data-focus-field]");
    if (!link) return;
    var el = document.getElementById(link.dataset.focusField) || document.getElementById(link.dataset.card + "-heading");
    if (!el) return;
    e.preventDefault();
    focusElement(el);
  });

  // ------------------------------------------------------------ live pickers
  function pickerLabels(picker) {
    var select = picker.querySelector("select");
    var out = {};
    Array.prototype.forEach.call(select.selectedOptions, function (o) { if (o.value) out[o.value] = o.textContent; });
    picker.querySelector(".picker-labels").value = JSON.stringify(out);
  }
  function loadChoices(picker, reset, refresh) {
    var select = picker.querySelector("select");
    var state = picker.querySelector(".picker-state");
    var more = picker.querySelector(".picker-more");
    var search = picker.querySelector(".picker-search").value;
    var url = picker.dataset.url + "&search=" + encodeURIComponent(search);
    if (!reset && picker.dataset.next) url += "&page=" + encodeURIComponent(picker.dataset.next);
    if (refresh) url += "&refresh=1";
    picker.setAttribute("aria-busy", "true");
    state.textContent = picker.dataset.loading;
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (answer) {
        picker.removeAttribute("aria-busy");
        if (!answer.ok) { state.textContent = answer.body.error || picker.dataset.failed; return; }
        var body = answer.body;
        if (reset) {
          Array.prototype.slice.call(select.options).forEach(function (o) {
            if (o.value && !o.selected) o.remove();
          });
        }
        var have = {};
        Array.prototype.forEach.call(select.options, function (o) { have[o.value] = o; });
        body.choices.forEach(function (c) {
          if (have[c.value]) { have[c.value].textContent = c.label; return; }
          var o = document.createElement("option");
          o.value = c.value;
          o.textContent = c.label;
          select.appendChild(o);
        });
        picker.dataset.next = body.next_page || "";
        more.hidden = !body.next_page;
        if (body.waiting_for) state.textContent = body.message;
        else state.textContent = body.choices.length ? "" : picker.dataset.none;
        pickerLabels(picker);
      })
      .catch(function () { picker.removeAttribute("aria-busy"); state.textContent = picker.dataset.failed; });
  }
  function initPicker(picker) {
    if (picker.dataset.ready) return;
    picker.dataset.ready = "1";
    var search = picker.querySelector(".picker-search");
    var timer = null;
    // Typing a search is not an edit of the recipe: keep it from the autosaving form.
    ["input", "change"].forEach(function (name) {
      search.addEventListener(name, function (e) {
        e.stopPropagation();
        if (name === "input") {
          clearTimeout(timer);
          timer = setTimeout(function () { loadChoices(picker, true); }, 250);
        }
      });
    });
    search.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); loadChoices(picker, true); }
    });
    picker.querySelector(".picker-refresh").addEventListener("click", function () { loadChoices(picker, true, true); });
    picker.querySelector(".picker-more").addEventListener("click", function () { loadChoices(picker, false); });
    picker.querySelector("select").addEventListener("change", function () { pickerLabels(picker); });
    loadChoices(picker, true);
  }

  // ------------------------------------------------------------ chips
  // A text field that holds references shows them as readable chips ("Email · Subject") in
  // a view laid over it while it is not being edited, and right after Insert data until the
  // next key or click. The field itself stays the control (label, value, autosave, typing
  // {{ }} by hand); the view is aria-hidden and a hidden description reads the same words.
  var REF = /\{\{\s*([^{}]*?)\s*\}\}/g;
  function readable(ref, form) {
    var known = {};
    try { known = JSON.parse((form && form.dataset.chips) || "{}"); } catch (err) { known = {}; }
    var path = ref.split("|")[0].trim();
    if (labels[path]) return labels[path];
    if (known[path]) return known[path];
    return path.replace(/^steps\./, "").split(".").join(" · ");
  }
  function renderChips(view) {
    var field = document.getElementById(view.dataset.chipsFor);
    if (!field) return;
    var form = field.closest("form");
    var value = field.value;
    var reads = document.getElementById(field.id + "-reads");
    var spoken = [];
    view.textContent = "";
    var last = 0;
    value.replace(REF, function (match, ref, at) {
      if (at > last) view.appendChild(document.createTextNode(value.slice(last, at)));
      var chip = document.createElement("span");
      chip.className = "chip";
      chip.textContent = readable(ref, form);
      spoken.push(chip.textContent);
      view.appendChild(chip);
      last = at + match.length;
      return match;
    });
    if (last < value.length) view.appendChild(document.createTextNode(value.slice(last)));
    view.parentNode.classList.toggle("has-chips", spoken.length > 0);
    if (reads) reads.textContent = spoken.length ? reads.dataset.prefix + " " + view.textContent : "";
  }
  function chipsOf(field) {
    return field && field.id ? document.querySelector('[data-chips-for="' + field.id + '"]') : null;
  }
  function peek(field, on) {
    var view = chipsOf(field);
    if (view) view.parentNode.classList.toggle("peek", on);
  }
  // Clicking the chips edits the text beneath them; any key but Tab starts editing it.
  document.addEventListener("mousedown", function (e) {
    var box = e.target.closest && e.target.closest(".chip-field");
    if (box) box.classList.remove("peek");
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Tab" && e.key !== "Shift" && e.target.matches && e.target.matches(".chip-field > input, .chip-field > textarea")) peek(e.target, false);
  });
  document.addEventListener("focusout", function (e) {
    if (e.target.matches && e.target.matches(".chip-field > input, .chip-field > textarea")) peek(e.target, false);
  });

  // An operator that takes no value (is empty, is true) hides the value it would compare.
  document.addEventListener("change", function (e) {
    var op = e.target.closest && e.target.closest("[data-cond-op]");
    if (!op) return;
    var box = op.closest(".cond-row").querySelector("[data-cond-value]");
    var chosen = op.options[op.selectedIndex];
    if (box && chosen) box.hidden = chosen.dataset.needsValue !== "1";
  });
  // Typing saves once it pauses, without waiting for the field to lose focus.
  var pauses = new WeakMap();
  document.addEventListener("input", function (e) {
    var form = e.target.closest && e.target.closest(".ed-form, .ed-head");
    if (form && window.htmx) {
      clearTimeout(pauses.get(form));
      pauses.set(form, setTimeout(function () { htmx.trigger(form, "autosave"); }, 700));
    }
    var view = chipsOf(e.target);
    if (view) renderChips(view);
  });

  // ------------------------------------------------------------ Insert data
  function closePanel(panel, back) {
    panel.hidden = true;
    var button = document.querySelector('[data-insert-for="' + panel.dataset.target + '"]');
    if (button) button.setAttribute("aria-expanded", "false");
    if (back && button) button.focus();
  }
  document.addEventListener("click", function (e) {
    var button = e.target.closest(".insert-data");
    if (button) {
      var card = button.closest("[data-card]");
      var panel = card.querySelector(".insert-panel");
      if (!panel) return;
      if (!panel.hidden && panel.dataset.target === button.dataset.insertFor) { closePanel(panel, true); return; }
      panel.dataset.target = button.dataset.insertFor;
      // A condition row is narrow: its list opens under the whole row.
      (button.closest(".cond-row") || button.closest(".insert-row")).after(panel);
      button.setAttribute("aria-expanded", "true");
      fetch(panel.dataset.url, { credentials: "same-origin" })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          panel.innerHTML = html;
          panel.hidden = false;
          panel.querySelectorAll("[data-ref]").forEach(function (b) { labels[b.dataset.ref] = b.dataset.label; });
          var first = panel.querySelector(".insert-item");
          if (first) first.focus();
        });
      return;
    }
    var item = e.target.closest(".insert-item");
    if (item) {
      var holder = item.closest(".insert-panel");
      var field = document.getElementById(holder.dataset.target);
      var text = "{{ " + item.dataset.ref + " }}";
      var at = typeof field.selectionStart === "number" ? field.selectionStart : field.value.length;
      var end = typeof field.selectionEnd === "number" ? field.selectionEnd : at;
      field.value = field.value.slice(0, at) + text + field.value.slice(end);
      closePanel(holder, false);
      field.focus();
      field.setSelectionRange(at + text.length, at + text.length);
      peek(field, true);
      field.dispatchEvent(new Event("input", { bubbles: true }));
      field.dispatchEvent(new Event("change", { bubbles: true }));
    }
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    var panel = e.target.closest && e.target.closest(".insert-panel");
    if (panel) closePanel(panel, true);
  });

  // ------------------------------------------------------------ confirm, copy
  document.addEventListener("click", function (e) {
    var reveal = e.target.closest("[data-reveal]");
    if (reveal) {
      var box = document.getElementById(reveal.dataset.reveal);
      box.hidden = false;
      reveal.setAttribute("aria-expanded", "true");
      box.querySelector("button").focus();
      return;
    }
    var hide = e.target.closest("[data-hide]");
    if (hide) {
      document.getElementById(hide.dataset.hide).hidden = true;
      var opener = document.querySelector('[data-reveal="' + hide.dataset.hide + '"]');
      if (opener) { opener.setAttribute("aria-expanded", "false"); opener.focus(); }
      return;
    }
    var copy = e.target.closest("[data-copy]");
    if (copy) copyText(copy);
  });

  // The Clipboard API where the page may use it; otherwise the text is left selected, and
  // the status line (aria-live) says how to copy it by hand.
  function copyText(button) {
    var source = document.getElementById(button.dataset.copy);
    var status = document.getElementById(button.dataset.copyStatus);
    var text = "value" in source ? source.value : source.textContent;
    function say(message) { if (status) status.textContent = message; }
    function byHand() {
      if (source.select) { source.focus(); source.select(); }
      say(button.dataset.copyFailed);
    }
    say("");
    if (!navigator.clipboard || !window.isSecureContext) { byHand(); return; }
    navigator.clipboard.writeText(text).then(function () { say("✓ " + button.dataset.copied); }, byHand);
  }
  // A read-only address selects itself whole when focused, ready to copy.
  document.addEventListener("focusin", function (e) {
    if (e.target.classList && e.target.classList.contains("copy-text")) e.target.select();
  });

  function init(root) {
    root.querySelectorAll("[data-picker]").forEach(initPicker);
    root.querySelectorAll("[data-chips-for]").forEach(renderChips);
  }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (e) { init(e.detail.elt); });
})();
