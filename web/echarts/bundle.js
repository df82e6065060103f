// The part of ECharts the page and the CLI's HTML report draw with, bundled
// by make site (esbuild) into site/echarts.min.js as the global `echarts`:
// 0.55 MB where the full bundle is 1 MB, and it installs only these, so the
// page's thread reads and starts it in less time.
import { use } from 'echarts/core';
import { BarChart, BoxplotChart, LineChart, ScatterChart } from 'echarts/charts';
import {
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  TitleComponent,
  TooltipComponent,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

use([
  BarChart, BoxplotChart, LineChart, ScatterChart,
  GridComponent, LegendComponent, MarkAreaComponent, MarkLineComponent, TitleComponent, TooltipComponent,
  CanvasRenderer,
]);

export * from 'echarts/core';
