/* Forms (查纠整改 填报): the draft is saved as the person types (POST with the page's CSRF token,
   files excepted: they go up with "保存草稿"), and "添加一行" adds a row to a repeating group
   without a round trip. Without this script the buttons do both through the server. */
(function () {
  "use strict";

  var DELAY_MS = 1500;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function initAutosave(form) {
    var url = form.getAttribute("data-autosave");
    var note = form.querySelector("[data-saved-note]");
    var timer = null;
    var inflight = false;
    var again = false;

    function fields() {
      var data = new URLSearchParams();
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!el.name || el.disabled || el.type === "file" || el.type === "submit" || el.name === "remove_file") { return; }
        if ((el.type === "checkbox" || el.type === "radio") && !el.checked) { return; }
        data.append(el.name, el.value);
      });
      return data;
    }

    function save() {
      timer = null;
      if (inflight) { again = true; return; }
      inflight = true;
      fetch(url, {method: "POST", credentials: "same-origin", body: fields(),
                  headers: {"X-CSRFToken": csrfToken(), "Accept": "application/json"}})
        .then(function (resp) {
          if (note) {
            var time = new Date().toTimeString().slice(0, 5);
            note.textContent = resp.ok ? (note.getAttribute("data-saved-text") || "草稿已自动保存 ") + time
                                       : (note.getAttribute("data-failed-text") || "自动保存失败，请点“保存草稿”");
          }
        })
        .catch(function () {
          if (note) { note.textContent = note.getAttribute("data-failed-text") || "自动保存失败，请点“保存草稿”"; }
        })
        .then(function () {
          inflight = false;
          if (again) { again = false; schedule(); }
        });
    }

    function schedule() {
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(save, DELAY_MS);
    }

    form.addEventListener("input", function (ev) { if (ev.target.type !== "file") { schedule(); } });
    form.addEventListener("change", function (ev) { if (ev.target.type !== "file") { schedule(); } });
    form.addEventListener("submit", function () { if (timer) { clearTimeout(timer); timer = null; } });
    // Leaving the page (switching apps on a phone) saves what is pending at once.
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden" && timer) { clearTimeout(timer); save(); }
    });
  }

  function initAddRow(button) {
    button.addEventListener("click", function (ev) {
      var group = button.closest("[data-group]");
      var rows = group ? group.querySelectorAll("[data-row]") : [];
      if (!rows.length) { return; }
      ev.preventDefault();
      var last = rows[rows.length - 1];
      var next = parseInt(last.getAttribute("data-row"), 10) + 1;
      var copy = last.cloneNode(true);
      copy.setAttribute("data-row", String(next));
      copy.querySelectorAll("input").forEach(function (input) {
        input.value = "";
        input.name = input.name.replace(/__\d+__/, "__" + next + "__");
        input.id = input.id.replace(/__\d+__/, "__" + next + "__");
      });
      copy.querySelectorAll("label[for]").forEach(function (label) {
        label.setAttribute("for", label.getAttribute("for").replace(/__\d+__/, "__" + next + "__"));
      });
      var no = copy.querySelector(".fm-group__no");
      if (no) { no.textContent = no.textContent.replace(/\d+/, String(next + 1)); }
      last.parentNode.insertBefore(copy, last.nextSibling);
      var first = copy.querySelector("input");
      if (first) { first.focus(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-autosave]");
    if (form) { initAutosave(form); }
    document.querySelectorAll("[data-add-row]").forEach(initAddRow);
  });
})();
