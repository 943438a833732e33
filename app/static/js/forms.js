/* Forms (查纠整改 填报): the draft is saved as the person types (POST with the page's CSRF token,
   files excepted: they go up with "保存草稿"), kept in the tab and retried until acknowledged, and "添加一行" adds a row to a repeating group
   without a round trip. Without this script the buttons do both through the server. */
(function () {
  "use strict";

  var DELAY_MS = 1500;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  /* Nothing typed is lost on a weak signal: every change is kept in this tab's sessionStorage
     (cleared when the tab closes — confidential answers are not left on the phone) until the
     server has acknowledged a save that included it; a failed save is retried with backoff and
     at once when the phone is back online; a reload restores what was not yet saved. */
  function initAutosave(form) {
    var url = form.getAttribute("data-autosave");
    var note = form.querySelector("[data-saved-note]");
    var storeKey = "fm-pending:" + url;
    var timer = null, retryTimer = null, retryDelay = 2000;
    var inflight = false, again = false, stopped = false;
    var changes = 0;  // bumped on every change; a save acknowledges the count it sent

    function say(attr, fallback, extra) {
      if (note) { note.textContent = (note.getAttribute(attr) || fallback) + (extra || ""); }
    }

    function entries() {
      var out = [];
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!el.name || el.disabled || el.type === "file" || el.type === "submit" || el.name === "remove_file") { return; }
        if ((el.type === "checkbox" || el.type === "radio") && !el.checked) { return; }
        out.push([el.name, el.value]);
      });
      return out;
    }

    function keep() {
      try { sessionStorage.setItem(storeKey, JSON.stringify(entries())); } catch (e) { /* full or disabled */ }
    }

    function forget() {
      try { sessionStorage.removeItem(storeKey); } catch (e) { /* ignore */ }
    }

    function shanghaiTime(iso) {
      try {
        return new Date(iso).toLocaleTimeString("zh-CN", {timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit",
                                                         hour12: false});
      } catch (e) { return ""; }
    }

    function retry() {
      clearTimeout(retryTimer);
      retryTimer = setTimeout(save, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    }

    function save() {
      timer = null;
      if (stopped) { return; }
      if (inflight) { again = true; return; }
      inflight = true;
      var sent = changes;
      var body = new URLSearchParams();
      entries().forEach(function (pair) { body.append(pair[0], pair[1]); });
      fetch(url, {method: "POST", credentials: "same-origin", body: body,
                  headers: {"X-CSRFToken": csrfToken(), "Accept": "application/json"}})
        .then(function (resp) {
          return resp.json().catch(function () { return {}; }).then(function (data) {
            if (resp.ok) {
              retryDelay = 2000;
              if (sent === changes) { forget(); }
              say("data-saved-text", "草稿已自动保存 ", shanghaiTime(data.saved_at));
            } else if (resp.status >= 500 || resp.status === 429) {
              say("data-offline-text", "网络不稳，内容已暂存在本页，恢复后自动保存");
              retry();
            } else {
              // Refused for good (submitted, closed, signed out): say why; keep what was typed in this tab.
              stopped = true;
              if (note) { note.textContent = (data.error && data.error.message) || note.getAttribute("data-failed-text"); }
            }
          });
        })
        .catch(function () {
          say("data-offline-text", "网络不稳，内容已暂存在本页，恢复后自动保存");
          retry();
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

    function changed(ev) {
      if (ev.target.type === "file") { return; }
      changes += 1;
      keep();
      schedule();
    }

    function restore(saved) {
      var byName = {};
      saved.forEach(function (pair) { (byName[pair[0]] = byName[pair[0]] || []).push(pair[1]); });
      Object.keys(byName).forEach(function (name) {
        var els = form.querySelectorAll('[name="' + name.replace(/"/g, "") + '"]');
        var row = /^(f_[A-Za-z0-9_]+?)__(\d+)__/.exec(name);
        for (var tries = 0; !els.length && row && tries < 20; tries += 1) {
          var first = form.querySelector('[name^="' + row[1] + '__0__"]');
          var add = first && first.closest("[data-group]") && first.closest("[data-group]").querySelector("[data-add-row]");
          if (!add) { break; }
          add.click();
          els = form.querySelectorAll('[name="' + name.replace(/"/g, "") + '"]');
        }
        Array.prototype.forEach.call(els, function (el) {
          if (el.type === "checkbox" || el.type === "radio") { el.checked = byName[name].indexOf(el.value) >= 0; }
          else if (el.type !== "file") { el.value = byName[name][0]; }
        });
      });
    }

    var pending = null;
    try { pending = JSON.parse(sessionStorage.getItem(storeKey)); } catch (e) { pending = null; }
    if (pending && pending.length) {
      restore(pending);
      changes = 1;
      say("data-restored-text", "已恢复上次未保存的内容，正在保存…");
      save();
    }

    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    // Submitting or "保存草稿" goes through the server page: what it receives is the person's, whatever comes back.
    form.addEventListener("submit", function () { if (timer) { clearTimeout(timer); timer = null; } forget(); });
    window.addEventListener("online", function () { if (!stopped) { retryDelay = 2000; clearTimeout(retryTimer); save(); } });
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
