// charts.js: the four charts of a run. Each chart's options are made by one
// function here, from the engine's options (charts(), in both languages) and
// the paths ticked; nothing else sets them.
import { $, PATHS, PATH_KEYS, CHART_KEYS, COLOURS, fmt, fmtAxis, sum, escapeHTML } from './util.js';
import { t, getLang } from './words.js';

const instances = {}; // echarts instances by key
export const paths = { crossing: true, amplitude: true, reset: true, init: true }; // the paths counted
let onLegend = null; // called when the paths chart's legend changes the paths

export function hasPaths(result) {
  return result.T > 0 && result.layers.every((l) => l.grad_paths);
}

export function allPathsCounted() {
  return PATHS.every((p) => paths[p]);
}

// countedGrad is a layer's dL/dthresh summed over its thresholds, over the
// ticked paths only.
export function countedGrad(layer, result) {
  if (!hasPaths(result) || allPathsCounted()) {
    return sum(layer.grad);
  }
  let g = 0;
  for (const p of PATHS) {
    if (paths[p]) {
      g += sum(layer.grad_paths[p]);
    }
  }
  return g;
}

// base copies the engine's options and adds what all four charts share:
// room for the labels, numbers that fit small gradients, a white
// background for the PNG.
function base(option) {
  const o = JSON.parse(JSON.stringify(option));
  o.backgroundColor = '#fff';
  o.grid = [{ left: 16, right: 24, bottom: 12, top: o.legend && o.legend.show ? 84 : 64, containLabel: true }];
  o.yAxis = (o.yAxis || [{}]).map((axis) => Object.assign({}, axis, { axisLabel: { formatter: fmtAxis } }));
  o.tooltip = Object.assign({}, o.tooltip, { valueFormatter: fmt });
  o.title = Object.assign({}, o.title, { left: 8, textStyle: { fontSize: 15 } });
  if (!(o.legend && o.legend.show)) {
    o.legend = { show: false }; // one series: its name says nothing
  }
  delete o.toolbox;
  return o;
}

// named gives a one-series chart's series the name of the table's column,
// which its tooltip shows.
function named(o, key) {
  o.series[0].name = t(key);
  return o;
}

// The options of each chart, by key.
const OPTIONS = {
  thresh: (option) => named(base(option), 'colThresh'),
  rate: (option) => named(base(option), 'colRate'),
  grad: (option, result) => {
    const o = base(option);
    const series = o.series[0];
    series.data = result.layers.map((l) => {
      const v = countedGrad(l, result);
      return { value: v, itemStyle: { color: v < 0 ? COLOURS.negative : COLOURS.positive } };
    });
    series.label = { show: true, position: 'top', formatter: (p) => (p.value > 0 ? '▼' : p.value < 0 ? '▲' : ''), color: COLOURS.label };
    o.tooltip = {
      show: true,
      trigger: 'item',
      formatter: (p) =>
        `${escapeHTML(p.name)}<br/>dL/dthresh = ${fmt(p.value)}<br/>${escapeHTML(t(p.value > 0 ? 'descentLowers' : p.value < 0 ? 'descentRaises' : 'descentNone'))}`,
    };
    if (hasPaths(result) && !allPathsCounted()) {
      const names = PATHS.filter((p) => paths[p]).map((p) => t(PATH_KEYS[p]));
      o.title.text = t('gradTitleSome', { title: o.title.text, paths: names.length ? names.join(' + ') : t('noPaths') });
    }
    o.title.subtext = `▼ ${t('signLegendPos')}    ▲ ${t('signLegendNeg')}`;
    o.title.subtextStyle = { fontSize: 11, color: COLOURS.label };
    o.grid[0].top = 78;
    return o;
  },
  paths: (option) => {
    const o = base(option);
    o.legend = Object.assign({}, o.legend, { top: 32, selected: {} });
    o.series.forEach((s, k) => {
      o.legend.selected[s.name] = paths[PATHS[k]];
    });
    return o;
  },
};

function chart(key) {
  if (!instances[key]) {
    instances[key] = echarts.init($('#chart-' + key));
    if (key === 'paths') {
      // A click on the legend ticks or unticks the path, as the boxes do.
      instances[key].on('legendselectchanged', (event) => {
        for (const [k, name] of legendNames.entries()) {
          paths[PATHS[k]] = event.selected[name] !== false;
        }
        if (onLegend) {
          onLegend();
        }
      });
    }
  }
  return instances[key];
}

let legendNames = [];

// options are a run's chart options in the page's language, or, until the
// engine has sent those, in the language of the run.
function optionsOf(run) {
  return run.charts[getLang()] || Object.values(run.charts)[0];
}

// draw draws the charts named in keys (all when null) of run.
export function draw(run, keys = null) {
  const options = optionsOf(run);
  const result = run.output.result;
  for (const key of CHART_KEYS) {
    if (keys && !keys.includes(key)) {
      continue;
    }
    if (key === 'paths' && !(hasPaths(result) && options.paths)) {
      continue;
    }
    if (key === 'paths') {
      legendNames = options.paths.series.map((s) => s.name);
    }
    chart(key).setOption(OPTIONS[key](options[key], result), true);
  }
  // Only a chart whose box changed size (made while hidden, or the window
  // resized) draws again: a resize is a second full draw.
  for (const c of Object.values(instances)) {
    const el = c.getDom();
    if (el.clientWidth !== c.getWidth() || el.clientHeight !== c.getHeight()) {
      c.resize();
    }
  }
}

export function onLegendChange(f) {
  onLegend = f;
}

export function resize() {
  for (const c of Object.values(instances)) {
    c.resize();
  }
}

// png is a chart's picture as a data: URL, or null before it is drawn.
export function png(key) {
  const c = instances[key];
  return c ? c.getDataURL({ type: 'png', pixelRatio: 2, backgroundColor: '#fff' }) : null;
}
