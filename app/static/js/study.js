/* Study pages: the reader's heartbeat and the history chart. No inline script (CSP).

   Heartbeats (QUALITY S9): one every `interval` seconds, and only while the page is visible
   and the officer touched, scrolled or typed within `idle` seconds (for a video: while it
   plays; for a PDF shown in the page: while the reader is inside the document). The page reports what the reader did (inputs, scroll, playback position); the
   server decides the credit from its own clock, so nothing here measures time for credit.
   A 429 (another tab was faster) is ignored silently. */
(function () {
  "use strict";

  function $(id) { return document.getElementById(id); }

  function mmss(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    var m = Math.floor(s / 60), r = s % 60;
    return m + ":" + (r < 10 ? "0" : "") + r;
  }

  function reader(root) {
    var url = root.getAttribute("data-heartbeat-url");
    var interval = Math.max(1, parseInt(root.getAttribute("data-interval"), 10) || 30) * 1000;
    var idle = Math.max(1, parseInt(root.getAttribute("data-idle"), 10) || 300) * 1000;
    var target = parseInt(root.getAttribute("data-target"), 10) || 1;
    var dailyCap = parseInt(root.getAttribute("data-daily-cap"), 10) || Infinity;
    var minGap = Math.max(0, parseInt(root.getAttribute("data-min-gap"), 10) || 5) * 1000;
    var kind = root.getAttribute("data-kind");
    var status = $("st-status"), itemBar = $("st-item-bar");
    var itemLabel = $("st-item-label"), todayLabel = $("st-today-label");
    var video = $("st-video"), article = $("st-article");

    var lastInput = Date.now(), inputs = 0, lastSent = 0, inFlight = false, stopped = false;
    var failures = 0, itemDone = root.getAttribute("data-done") === "1", dayCapped = false;
    var lastNoisy = 0;

    function msg(name) { return status.getAttribute("data-msg-" + name) || ""; }
    function setStatus(name, cls) {
      status.textContent = msg(name);
      status.className = "st-status" + (cls ? " " + cls : "");
    }

    function countInput(ev) {
      var now = Date.now();
      // Scroll and pointer moves fire in bursts: count them at most twice a second.
      if ((ev.type === "scroll" || ev.type === "mousemove" || ev.type === "wheel") && now - lastNoisy < 500) {
        lastInput = now;
        return;
      }
      if (ev.type === "scroll" || ev.type === "mousemove" || ev.type === "wheel") { lastNoisy = now; }
      lastInput = now;
      inputs += 1;
      if (!stopped && visible() && now - lastSent >= interval) { tick(); }
    }
    ["pointerdown", "keydown", "touchstart", "wheel", "scroll", "mousemove"].forEach(function (name) {
      window.addEventListener(name, countInput, { passive: true });
    });

    function visible() { return document.visibilityState === "visible"; }
    function playing() { return !!(video && !video.paused && !video.ended); }

    function scrollPct() {
      if (!article) { return null; }
      var rect = article.getBoundingClientRect();
      var seen = window.innerHeight - rect.top;
      return Math.max(0, Math.min(100, Math.round(seen * 100 / Math.max(1, rect.height))));
    }

    function active() {
      if (!visible()) { return "hidden"; }
      if (playing()) { return "playing"; }
      if (Date.now() - lastInput < idle) { return "live"; }
      return kind === "video" && video ? "video-paused" : "idle";
    }

    function show(data) {
      itemBar.value = Math.min(data.item_seconds, target);
      itemLabel.textContent = mmss(data.item_seconds);
      todayLabel.textContent = String(Math.floor(data.today_seconds / 60));
      itemDone = data.item_seconds >= target;
      dayCapped = data.today_seconds >= dailyCap;
    }

    // Pages of this browser share the time of their last beat, so a new page (or a second tab)
    // waits out the server's minimum gap instead of collecting a 429.
    function lastShared() {
      try { return parseInt(window.localStorage.getItem("study.lastBeat"), 10) || 0; } catch (e) { return 0; }
    }
    function markShared(at) {
      try { window.localStorage.setItem("study.lastBeat", String(at)); } catch (e) { /* private mode */ }
    }

    function send() {
      inFlight = true;
      lastSent = Date.now();
      markShared(lastSent);
      var body = { inputs: inputs, scroll_pct: scrollPct(), media_seconds: video ? Math.floor(video.currentTime) : null };
      inputs = 0;
      window.App.api("POST", url, body).then(function (data) {
        failures = 0;
        show(data);
        if (itemDone) { setStatus("done", "is-done"); }
        else if (dayCapped) { setStatus("daycap", "is-paused"); }
        else { setStatus(playing() ? "playing" : "live", "is-live"); }
      }).catch(function (err) {
        if (err.status === 429) { return; }
        if (err.status === 404) { stopped = true; setStatus("gone", "is-error"); return; }
        if (err.status === 401 || err.status === 403) { stopped = true; setStatus("login", "is-error"); return; }
        failures += 1;
        setStatus("offline", "is-error");
      }).then(function () { inFlight = false; });
    }

    function tick() {
      if (stopped || inFlight) { return; }
      var state = active();
      if (state === "hidden" || state === "idle" || state === "video-paused") {
        if (!itemDone) { setStatus(state, "is-paused"); }
        return;
      }
      // After a failure, back off (up to 2 minutes) instead of hammering a weak signal.
      var wait = failures ? Math.min(120000, interval * Math.pow(2, failures - 1)) : interval;
      var now = Date.now();
      if (now - lastSent >= wait && now - lastShared() >= minGap + 500) { send(); }
    }

    function resume() {
      var pos = parseInt(root.getAttribute("data-position"), 10) || 0;
      // Articles store a scroll percentage, videos a playback second.
      if (itemDone || pos < 5 || (!video && pos > 95)) { return; }
      if (video) {
        video.addEventListener("loadedmetadata", function () {
          if (pos < video.duration - 3) { video.currentTime = pos; toast(msg("resumed")); }
        }, { once: true });
      } else if (article) {
        var rect = article.getBoundingClientRect();
        var y = window.scrollY + rect.top + rect.height * pos / 100 - window.innerHeight;
        if (y > 40) { window.scrollTo(0, y); toast(msg("resumed")); }
      }
    }

    document.addEventListener("visibilitychange", function () {
      if (visible()) { lastInput = Date.now(); }
      tick();
    });
    window.addEventListener("blur", function () { window.setTimeout(tick, 0); });
    if (video) {
      video.addEventListener("play", function () { lastInput = Date.now(); tick(); });
      video.addEventListener("pause", tick);
    }
    resume();
    window.setInterval(tick, 1000);
    tick();
  }

  var toastTimer = null;
  function toast(text) {
    var el = $("st-toast");
    if (!el || !text) { return; }
    el.textContent = text;
    el.classList.remove("is-hidden");
    window.clearTimeout(toastTimer);
    toastTimer = window.setTimeout(function () { el.classList.add("is-hidden"); }, 2500);
  }

  // The week's bars are SVG in the page (templates/_macros/charts.html); ECharts draws the same
  // data-chart data with tooltips once the page has loaded (App.upgradeCharts).
  function weekChart(chart, data) {
    var navy = "#24508f", green = "#07a35a", future = "#e5e8ef";
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, formatter: function (items) {
        var i = items[0].dataIndex, v = data.minutes[i];  // plain text: the CSP refuses styled markers
        return data.labels[i].replace("\n", " ") + " " + (v === null ? "—" : v);
      } },
      grid: { left: 30, right: 8, top: 24, bottom: 36 },
      xAxis: { type: "category", data: data.labels, axisTick: { show: false },
               axisLine: { lineStyle: { color: "#c3c9d4" } }, axisLabel: { color: "#6b7380", fontSize: 11, interval: 0 } },
      yAxis: { type: "value", min: 0, max: Math.max(data.target, Math.max.apply(null, data.minutes.map(function (v) { return v || 0; }))),
               splitNumber: 3, axisLabel: { color: "#6b7380", fontSize: 10 }, splitLine: { lineStyle: { color: "#eef1f6" } } },
      series: [{
        type: "bar", barWidth: "55%",
        data: data.minutes.map(function (v) {
          return { value: v === null ? 0 : v,
                   itemStyle: { color: v === null ? future : (v >= data.target ? green : navy), borderRadius: [4, 4, 0, 0] } };
        }),
        label: { show: true, position: "top", color: "#1f2329", fontSize: 10,
                 formatter: function (p) { return data.minutes[p.dataIndex] ? p.value : ""; } },
        markLine: { silent: true, symbol: "none", label: { show: false },
                    lineStyle: { color: "#c9a227", type: "dashed" }, data: [{ yAxis: data.target }] }
      }]
    });
  }

  var me = document.currentScript;
  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector("[data-study-item]");
    if (root) { reader(root); }
    if (me && window.App) { window.App.upgradeCharts(me.getAttribute("data-echarts"), weekChart); }
  });
})();
