// The ECharts the app serves: app/static/vendor/echarts.custom.js, bundled by `make assets`
// (esbuild: a minified IIFE whose exports become the global `echarts`, so the page scripts call
// echarts.init(el).setOption(...) as they did with the full dist file). Only the parts our charts
// use are registered: the full build is 1.1 MB (368 KB gzipped), which a cheap phone on 1.6 Mbps
// needs 2–3 s to fetch and run (issue 16; benchmarks/slow_phone.py).
//
// The charts are drawn on the server first, as SVG (app/templates/_macros/charts.html); this
// bundle is fetched after the page's load event (App.upgradeCharts in app/static/js/app.js) and
// only makes them interactive (tooltips).
//
// Charts drawn: app/static/js/reports.js (units' composite scores: bar; the 8-week trend: line
// with tooltip and legend) and app/static/js/study.js (a week's minutes: bar, the daily target
// as a markLine). ECharts silently ignores an option whose series type or component is not
// registered here: a chart that needs one more adds it below, within the page-weight budget
// (tests/e2e/test_page_weight.py finds any part a chart page asks for and this build lacks).
import { init as createChart, use } from "echarts/core";
// The chart of a box, for the browser tests that read a drawn chart's options and tooltips.
export { getInstanceByDom } from "echarts/core";
import { BarChart, LineChart } from "echarts/charts";
import { GridComponent, LegendComponent, MarkLineComponent, TooltipComponent } from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";

use([BarChart, LineChart, GridComponent, LegendComponent, MarkLineComponent, TooltipComponent, CanvasRenderer]);

/**
 * echarts.init for every chart of the platform. Charts appear drawn at once: without a theme of
 * the caller's, the default one with the entry animation off (on a phone four times slower it
 * keeps the CPU busy for a further second before the chart is complete; an option may still
 * turn it on). Once the first drawing is finished the container gets `data-live` (the SVG
 * carries `data-drawn` from the server), which benchmarks/slow_phone.py and the browser tests
 * wait for.
 */
export function init(dom, theme, opts) {
  const chart = createChart(dom, theme == null ? { animation: false } : theme, opts);
  chart.on("finished", function drawn() {
    chart.off("finished", drawn);
    dom.setAttribute("data-live", "");
  });
  return chart;
}
