/* Shared page script: no inline scripts anywhere (the CSP forbids them).
   window.App.api() wraps fetch with the CSRF header and JSON errors. */
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');

  function csrfToken() { return meta ? meta.getAttribute("content") : ""; }

  function api(method, url, body) {
    var headers = { "Accept": "application/json" };
    if (method !== "GET") { headers["X-CSRFToken"] = csrfToken(); }
    if (body !== undefined) { headers["Content-Type"] = "application/json"; }
    return fetch(url, {
      method: method, headers: headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        if (!res.ok) {
          var err = new Error((data.error && data.error.message) || res.statusText);
          err.status = res.status; err.code = data.error && data.error.code; throw err;
        }
        return data;
      });
    });
  }

  // Progress elements carry their value in data-attributes; set here, not with inline styles.
  function initBars(root) {
    (root || document).querySelectorAll("[data-width-pct]").forEach(function (el) {
      var pct = Math.max(0, Math.min(100, parseFloat(el.getAttribute("data-width-pct")) || 0));
      el.style.width = pct + "%";
    });
  }

  // Buttons that ask before acting: <button data-confirm="...">.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-confirm]");
    if (btn && !window.confirm(btn.getAttribute("data-confirm"))) { ev.preventDefault(); }
  });

  // A table wider than the phone scrolls sideways inside its wrapper (as does the content
  // preview's phone screen): keyboard users can only scroll what they can focus (WCAG 2.1.1).
  function focusScrollers(root) {
    (root || document).querySelectorAll(".app-table-wrap, .st-phone__screen").forEach(function (el) {
      var scrolls = el.scrollWidth > el.clientWidth || el.scrollHeight > el.clientHeight;
      if (scrolls && !el.hasAttribute("tabindex")) { el.setAttribute("tabindex", "0"); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { initBars(); focusScrollers(); });
  window.App = { api: api, csrfToken: csrfToken, initBars: initBars };
})();
