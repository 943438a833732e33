// The ECharts the app serves: app/static/vendor/echarts.custom.js, bundled by `make assets`
// (esbuild: minified IIFE whose exports become the global `echarts`, so the page scripts call
// echarts.init(...).setOption(...) as they did with the full dist file). Only the parts our charts
// use are registered: the full build is 1.1 MB (368 KB gzipped), which a cheap phone on 1.6 Mbps
// needs 2–3 s to fetch and run (issue 16).
//
// Charts drawn: app/static/js/reports.js (units' composite scores: bar; the 8-week trend: line,
// with tooltip and legend) and app/static/js/study.js (a week's minutes: bar, the daily target
// as a markLine). ECharts silently ignores an option whose series type or component is not
// registered here: a chart that needs one more adds it below (and to the page-weight budget).
import { init, use } from "echarts/core";
import { BarChart, LineChart } from "echarts/charts";
import { GridComponent, LegendComponent, MarkLineComponent, TooltipComponent } from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";

use([BarChart, LineChart, GridComponent, LegendComponent, MarkLineComponent, TooltipComponent, CanvasRenderer]);

export { init };
