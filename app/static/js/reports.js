/* Dashboard charts (ECharts, served locally) and the week picker. Data comes from
   data-chart attributes: no inline scripts (CSP). */
(function () {
  "use strict";
  document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
  if (!window.echarts) { return; }
  var navy = "#1a3a6b", blue = "#24508f", green = "#07a35a", gold = "#c9a227";

  function read(el) { try { return JSON.parse(el.getAttribute("data-chart")); } catch (e) { return null; } }

  var children = document.getElementById("chart-children");
  if (children) {
    var d = read(children);
    if (d && d.names.length) {
      children.style.height = Math.max(160, d.names.length * 28 + 40) + "px";
      var chart = echarts.init(children);
      chart.setOption({
        grid: { left: 8, right: 36, top: 8, bottom: 8, containLabel: true },
        xAxis: { type: "value", max: 100, splitLine: { lineStyle: { color: "#eef1f6" } } },
        yAxis: { type: "category", inverse: true, data: d.names, axisLabel: { width: 96, overflow: "truncate" } },
        series: [{ type: "bar", data: d.values, barMaxWidth: 18, itemStyle: { color: blue, borderRadius: [0, 4, 4, 0] },
                   label: { show: true, position: "right", formatter: function (p) { return p.value ? p.value.toFixed(1) : "—"; } } }]
      });
      window.addEventListener("resize", function () { chart.resize(); });
    } else { children.remove(); }
  }

  var trend = document.getElementById("chart-trend");
  if (trend) {
    var t = read(trend), labels = JSON.parse(trend.getAttribute("data-labels"));
    var pct = function (xs) { return xs.map(function (v) { return v === null || v === undefined ? null : Math.round(v * 1000) / 10; }); };
    var line = echarts.init(trend);
    line.setOption({
      color: [navy, green, gold],
      tooltip: { trigger: "axis" },
      legend: { bottom: 0, data: [labels.composite, labels.study, labels.participation] },
      grid: { left: 8, right: 12, top: 16, bottom: 36, containLabel: true },
      xAxis: { type: "category", data: t.weeks.map(function (w) { return w.slice(5); }) },
      yAxis: { type: "value", max: 100, splitLine: { lineStyle: { color: "#eef1f6" } } },
      series: [
        { name: labels.composite, type: "line", smooth: true, data: t.composite, connectNulls: true, lineStyle: { width: 3 } },
        { name: labels.study, type: "line", smooth: true, data: pct(t.study), connectNulls: true },
        { name: labels.participation, type: "line", smooth: true, data: pct(t.participation), connectNulls: true }
      ]
    });
    window.addEventListener("resize", function () { line.resize(); });
  }
})();
