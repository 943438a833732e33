/* Dashboard charts (server-drawn SVG, made interactive by ECharts after load) and the week picker. Data comes from
   data-chart attributes: no inline scripts (CSP). */
(function () {
  "use strict";
  document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
  document.querySelectorAll("[data-print]").forEach(function (el) {
    el.addEventListener("click", function () { window.print(); });
  });
  // The charts are SVG in the page already; ECharts makes them interactive (tooltips) after the
  // load event (App.upgradeCharts), drawing the same data-chart data as the SVG.
  var me = document.currentScript;
  var navy = "#1a3a6b", blue = "#24508f", green = "#07a35a", gold = "#c9a227";
  var draw = {};

  // Tooltips are plain text: ECharts' default markers are spans with inline styles, which the
  // CSP refuses.
  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; }); }

  draw["chart-children"] = function (chart, d) {
    chart.setOption({
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, formatter: function (items) {
        var it = items[0];
        return esc(it.name) + " " + (it.value ? it.value.toFixed(1) : "—");
      } },
      grid: { left: 8, right: 36, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", max: 100, splitLine: { lineStyle: { color: "#eef1f6" } } },
      yAxis: { type: "category", inverse: true, data: d.names, axisLabel: { width: 96, overflow: "truncate" } },
      series: [{ type: "bar", data: d.values, barMaxWidth: 18, itemStyle: { color: blue, borderRadius: [0, 4, 4, 0] },
                 label: { show: true, position: "right", formatter: function (p) { return p.value ? p.value.toFixed(1) : "—"; } } }]
    });
  };

  draw["chart-trend"] = function (line, t, labels) {
    var pct = function (xs) { return xs.map(function (v) { return v === null || v === undefined ? null : Math.round(v * 1000) / 10; }); };
    // A week in progress (t.open) is the last point: drawn hollow at the end of a dashed
    // segment (a second series of the same name, so the legend toggles both), and named
    // 本周进行中 in the tooltip and the legend; closed weeks are solid, filled points.
    var last = t.weeks.length - 1, colors = [navy, green, gold];
    var parts = [[labels.composite, t.composite], [labels.study, pct(t.study)], [labels.participation, pct(t.participation)]];
    var series = [];
    parts.forEach(function (p, i) {
      series.push({ name: p[0], type: "line", smooth: true, connectNulls: true, symbol: "circle", color: colors[i],
                    lineStyle: { width: i ? 2 : 3 }, data: t.open ? p[1].slice(0, last).concat([null]) : p[1] });
      if (t.open) {
        series.push({ name: p[0], type: "line", connectNulls: true, color: colors[i], lineStyle: { type: "dashed", width: i ? 2 : 3 },
                      data: p[1].map(function (v, j) { return j >= last - 1 ? v : null; }),
                      symbol: function (v, params) { return params.dataIndex === last ? "emptyCircle" : "none"; }, symbolSize: 9 });
      }
    });
    if (t.open) { series.push({ name: labels.open, type: "line", data: [], color: "#8a93a3", lineStyle: { type: "dashed" }, symbol: "emptyCircle" }); }
    line.setOption({
      color: colors,
      tooltip: { trigger: "axis", formatter: function (items) {
        var seen = {}, i = items.length ? items[0].dataIndex : 0;
        var head = t.names[i] + (t.open && i === last ? "（" + labels.open + "）" : "");
        return [head].concat(items.filter(function (it) {  // one line per measure: the two series of one overlap
          var ok = it.value !== null && it.value !== undefined && it.value !== "-" && !seen[it.seriesName];
          if (ok) { seen[it.seriesName] = true; }
          return ok;
        // Plain text: ECharts' markers are spans with inline styles, which the CSP refuses.
        }).map(function (it) {
          return it.seriesName + " " + Math.round(it.value * 10) / 10 + (it.seriesName === labels.composite ? "" : "%");
        })).join("<br>");
      } },
      legend: { bottom: 0, data: [labels.composite, labels.study, labels.participation].concat(t.open ? [labels.open] : []) },
      grid: { left: 8, right: 12, top: 16, bottom: 36, containLabel: true },
      xAxis: { type: "category", data: t.names },
      yAxis: { type: "value", max: 100, splitLine: { lineStyle: { color: "#eef1f6" } } },
      series: series
    });
  };

  // One officer's last 12 weeks (reports/officer.html): credited hours against each week's
  // target; the week in progress is drawn lighter, since its bar is still growing.
  draw["chart-officer-weeks"] = function (bars, w, wl) {
    bars.setOption({
      tooltip: { trigger: "axis", formatter: function (items) {
        return [esc(items[0].name)].concat(items.map(function (it) {
          return esc(it.seriesName) + " " + Math.round(it.value * 10) / 10;
        })).join("<br>");
      } },
      legend: { bottom: 0, data: [wl.hours, wl.target] },
      grid: { left: 8, right: 12, top: 16, bottom: 36, containLabel: true },
      xAxis: { type: "category", data: w.weeks, axisLabel: { interval: 0, rotate: 45, fontSize: 10 } },
      yAxis: { type: "value", splitLine: { lineStyle: { color: "#eef1f6" } } },
      series: [
        { name: wl.hours, type: "bar", barMaxWidth: 22, color: blue,
          data: w.hours.map(function (v, i) {
            var met = v >= w.target[i];
            return { value: v, itemStyle: { color: w.current[i] ? "#9fb3d1" : (met ? blue : gold), borderRadius: [3, 3, 0, 0] } };
          }) },
        { name: wl.target, type: "line", step: "middle", data: w.target, symbol: "none", color: navy,
          lineStyle: { type: "dashed", width: 2, color: navy } }
      ]
    });
  };

  if (me && window.App) {
    window.App.upgradeCharts(me.getAttribute("data-echarts"), function (chart, data, labels, el) {
      draw[el.id](chart, data, labels);
    });
  }
})();
