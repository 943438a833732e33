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

  // Charts are drawn on the server as SVG (templates/_macros/charts.html). ECharts only adds
  // tooltips, so its bundle (`src`) is fetched after the page's load event, or at the first touch
  // of a chart, never competing with the page on a slow link (issue 16). draw(chart, data, labels)
  // sets the options of one [data-chart] box; the SVG is removed once the canvas is complete, and
  // stays if the bundle fails to load or the drawing throws.
  function upgradeCharts(src, draw) {
    var boxes = Array.prototype.slice.call(document.querySelectorAll("[data-chart]"));
    var started = false;
    if (!src || !boxes.length) { return; }
    function parse(el, name) {
      try { return JSON.parse(el.getAttribute(name) || "null"); } catch (e) { return null; }
    }
    function upgrade(el) {
      var svg = el.querySelector("svg"), data = parse(el, "data-chart"), chart = null;
      if (!data || !window.echarts) { return; }
      el.style.height = (svg ? svg.getBoundingClientRect().height : 240) + "px";
      el.classList.add("is-upgrading");
      try {
        chart = window.echarts.init(el);
        chart.on("finished", function done() {
          chart.off("finished", done);
          if (svg) { svg.remove(); }
          el.classList.remove("is-upgrading");
        });
        draw(chart, data, parse(el, "data-labels"), el);
        window.addEventListener("resize", function () { chart.resize(); });
      } catch (e) {
        if (chart) { chart.dispose(); }
        el.style.height = "";
        el.classList.remove("is-upgrading");
      }
    }
    function start() {
      if (started) { return; }
      started = true;
      var script = document.createElement("script");
      script.src = src;
      script.onload = function () { boxes.forEach(upgrade); };
      document.head.appendChild(script);
    }
    boxes.forEach(function (el) { el.addEventListener("pointerdown", start, { passive: true }); });
    if (document.readyState === "complete") { start(); } else { window.addEventListener("load", start); }
  }

  document.addEventListener("DOMContentLoaded", function () { initBars(); focusScrollers(); });
  window.App = { api: api, csrfToken: csrfToken, initBars: initBars, upgradeCharts: upgradeCharts };
})();
