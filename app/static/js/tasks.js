/* Campaign tasks: the reflection's live character count, unsaved text kept across a reload
   (sessionStorage, this tab only), and "select all" on the attendance list. No inline scripts. */
(function () {
  "use strict";

  // Characters that count toward a reflection's minimum: whitespace does not (as on the server).
  function countChars(text) { return text.replace(/\s+/g, "").length; }

  function initCounter(area) {
    var out = document.querySelector("[data-char-count]");
    var min = parseInt(area.getAttribute("data-min-chars"), 10) || 0;
    if (!out) { return; }
    function update() {
      var n = countChars(area.value);
      out.textContent = String(n);
      out.parentNode.classList.toggle("is-enough", min > 0 && n >= min);
    }
    area.addEventListener("input", update);
    update();
  }

  // Text typed but not yet saved survives a reload of this tab (e.g. the phone dropped the
  // page while the camera was open). The key carries the server draft's stamp, so a newer
  // server draft is never overwritten by an older local copy.
  function initKeep(area) {
    var key = area.getAttribute("data-keep-key");
    var store;
    try { store = window.sessionStorage; } catch (e) { return; }
    if (!key || !store) { return; }
    var saved = store.getItem(key);
    if (saved !== null && saved !== area.value) {
      area.value = saved;
      var note = document.getElementById("tk-restored");
      if (note) { note.hidden = false; }
      area.dispatchEvent(new Event("input"));
    }
    area.addEventListener("input", function () {
      try { store.setItem(key, area.value); } catch (e) { /* full or private mode */ }
    });
    if (area.form) {
      area.form.addEventListener("submit", function () { store.removeItem(key); });
    }
    // Drop copies kept against older server drafts of the same task.
    var prefix = key.slice(0, key.lastIndexOf(":") + 1);
    for (var i = store.length - 1; i >= 0; i--) {
      var k = store.key(i);
      if (k && k !== key && k.indexOf(prefix) === 0) { store.removeItem(k); }
    }
  }

  function initCheckAll(box) {
    var name = box.getAttribute("data-check-all");
    var form = box.form || document;
    box.addEventListener("change", function () {
      form.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (el) {
        el.checked = box.checked;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var area = document.querySelector("textarea[data-keep-key]");
    if (area) {
      initKeep(area);
      if (area.hasAttribute("data-min-chars")) { initCounter(area); }
    }
    document.querySelectorAll("[data-check-all]").forEach(initCheckAll);
  });
})();
