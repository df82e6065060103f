// charts.js: the charts of a run. Each chart's options are made by one
// function here, from the engine's options (charts(), in both languages) and
// the paths ticked; nothing else sets them.
//
// Issue 15: the gradient and path charts are on a symlog axis where the
// gradients span more than two decades (scale "auto"; "symlog" and "linear"
// on request, #chart-scale), the sign kept by colour and side, the axis
// labelled in the gradients' own units (snn/chart's Symlog, mirrored here);
// the tooltip is on the whole layer (axis pointer); more than HORIZONTAL
// layers lie in rows, a name a row. Pinned runs (up to MAX_PINS, kept in
// localStorage) are drawn beside the run shown. The conversion curve is
// drawn by drawCurve.
// Issue 13: a run with a spread keeps its whiskers and "?" marks here.
import { $, PATHS, PATH_KEYS, CHART_KEYS, COLOURS, fmt, fmtAxis, sum, escapeHTML } from './util.js';
import { t, getLang } from './words.js';

// The layer count above which the bars lie in rows, a row's height, and the
// decades a symlog axis is chosen above: snn/chart's Horizontal, RowHeight
// and Decades.
export const HORIZONTAL = 20;
const ROW_HEIGHT = 18;
const DECADES = 2;
// Pinned runs kept, at most, and where.
export const MAX_PINS = 4;
const PINS_KEY = 'spikegrad.pins';
// A pinned run's bars: its own grey for the legend, the sign's colour paler.
const PIN_GREYS = ['#666', '#888', '#aaa', '#444'];
const UNSTABLE = '#222';

const instances = {}; // echarts instances by key
export const paths = { crossing: true, amplitude: true, reset: true, init: true }; // the paths counted
let onLegend = null; // called when the paths chart's legend changes the paths
let scale = 'auto'; // the gradient and path charts' axis: auto, symlog or linear
let drawWidth = 600; // px: the width of the chart being made, for what fits in it

export function setScale(s) {
  scale = s === 'symlog' || s === 'linear' ? s : 'auto';
}

export function getScale() {
  return scale;
}

// symlogBase is snn/chart.SymlogBase: the linear threshold c (a power of
// ten at or below the least nonzero |v|) and whether the values span more
// than DECADES decades.
export function symlogBase(values) {
  let lo = Infinity;
  let hi = 0;
  for (const v of values) {
    const a = Math.abs(v);
    if (a > 0 && Number.isFinite(a)) {
      lo = Math.min(lo, a);
      hi = Math.max(hi, a);
    }
  }
  if (hi === 0) {
    return { c: 0, wide: false };
  }
  return { c: Math.pow(10, Math.floor(Math.log10(lo))), wide: hi / lo > Math.pow(10, DECADES) };
}

// symlog and unsymlog are snn/chart.Symlog and SymlogInv: linear below c,
// a unit a decade above, the sign kept.
export function symlog(v, c) {
  const a = Math.abs(v);
  const y = a > c ? 1 + Math.log10(a / c) : a / c;
  return v < 0 ? -y : y;
}

export function unsymlog(y, c) {
  const a = Math.abs(y);
  const v = a > 1 ? c * Math.pow(10, a - 1) : a * c;
  return y < 0 ? -v : v;
}

// symlogOf is the threshold the scale chosen asks for values (0: linear).
function symlogOf(values) {
  const { c, wide } = symlogBase(values);
  return scale === 'linear' || (scale === 'auto' && !wide) ? 0 : c;
}

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

// base copies the engine's options and adds what all the bar charts share:
// room for every label (rotated, or rows when there are many layers),
// numbers that fit small gradients, the tooltip on the whole layer, a
// white background for the PNG.
function base(option, result) {
  const o = JSON.parse(JSON.stringify(option));
  delete o.spikegrad;
  o.backgroundColor = '#fff';
  const legend = o.legend && o.legend.show;
  o.grid = [{ left: 16, right: 32, bottom: 12, top: legend ? 84 : 64, containLabel: true }];
  const names = result.layers.map((l) => l.name);
  const cat = { type: 'category', data: names, axisLabel: { interval: 0, fontSize: 11 } };
  const val = { type: 'value', axisLabel: { formatter: fmtAxis } };
  if (horizontal(result)) {
    cat.inverse = true; // the first layer at the top
    o.xAxis = [val];
    o.yAxis = [cat];
  } else {
    cat.axisLabel.rotate = 45;
    o.xAxis = [cat];
    o.yAxis = [val];
  }
  o.tooltip = { show: true, trigger: 'axis', axisPointer: { type: 'shadow' }, confine: true, valueFormatter: fmt };
  o.title = Object.assign({}, o.title, { left: 8, textStyle: { fontSize: 15 } });
  if (!legend) {
    o.legend = { show: false }; // one series: its name says nothing
  }
  delete o.toolbox;
  return o;
}

// horizontal: a run of more than HORIZONTAL layers is drawn in rows.
export function horizontal(result) {
  return result.layers.length > HORIZONTAL;
}

// valueAxis is the chart's value axis (y, or x in rows).
function valueAxis(o) {
  return o.xAxis[0].type === 'value' ? o.xAxis[0] : o.yAxis[0];
}

// onSymlog makes the chart's value axis a symlog one of threshold c: the
// ticks a decade apart, labelled in the original units, and named so.
function onSymlog(o, c) {
  let lo = 0;
  let hi = 0;
  for (const s of o.series) {
    for (const d of s.data) {
      const v = d && typeof d === 'object' && 'value' in d ? d.value : d;
      for (const x of Array.isArray(v) ? v : [v]) {
        if (typeof x === 'number') {
          lo = Math.min(lo, x);
          hi = Math.max(hi, x);
        }
      }
    }
  }
  lo = Math.floor(lo);
  hi = Math.ceil(hi);
  Object.assign(valueAxis(o), {
    min: lo,
    max: hi,
    // Rows: the value axis is across, so fewer labels fit.
    // A decade a tick, fewer where they would crowd: a label is about 40 px
    // wide across (rows), 20 px tall up the side; the plot about half the
    // chart's width in rows, 250 px tall otherwise.
    interval: Math.max(1, Math.ceil((hi - lo) / Math.max(2, Math.floor(o.xAxis[0].type === 'value' ? plotWidth(o) / 48 : 250 / 20)))),
    axisLabel: { formatter: (v) => fmtDecade(unsymlog(v, c)) },
    name: t(drawWidth < 600 ? 'symlogAxisShort' : 'symlogAxis', { c: fmtDecade(c) }),
    nameLocation: 'middle',
    nameGap: horizontalAxisGap(o),
    nameTextStyle: { color: COLOURS.label, fontSize: 11, width: o.xAxis[0].type === 'value' ? Math.max(120, drawWidth * 0.5) : 240, overflow: 'break' },
  });
  if (o.xAxis[0].type === 'value') {
    o.grid[0].bottom = drawWidth < 600 ? 48 : 34; // room for the axis's name (two lines when narrow) under its labels
  }
}

// plotWidth guesses the bars' width in rows: the chart's, less the longest
// layer name (about 6.5 px a character) and the margins.
function plotWidth(o) {
  const longest = Math.max(0, ...o.yAxis[0].data.map((n) => String(n).length));
  return Math.max(60, drawWidth - 6.5 * longest - 64);
}

// fmtDecade writes a symlog tick (a power of ten, or a fraction of c) short.
function fmtDecade(v) {
  const a = Math.abs(v);
  if (a === 0) {
    return '0';
  }
  return a >= 1e-3 && a < 1e4 ? String(Number(v.toPrecision(2))) : v.toExponential(Number.isInteger(Math.log10(a)) ? 0 : 1);
}

function horizontalAxisGap(o) {
  return o.xAxis[0].type === 'value' ? 26 : 46;
}

// named gives a one-series chart's series the name of the table's column,
// which its tooltip shows.
function named(o, key) {
  o.series[0].name = t(key);
  return o;
}

// spreadOf is a layer's range of the summed gradient over a spread's runs
// and whether its sign held (snn/chart.Spread); null without a spread.
export function spreadOf(layer) {
  const runs = layer.grad_runs;
  if (!runs || runs.length === 0) {
    return null;
  }
  const first = sum(runs[0]);
  let lo = first;
  let hi = first;
  let stable = true;
  for (const g of runs.slice(1)) {
    const v = sum(g);
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
    if (Math.sign(v) !== Math.sign(first)) {
      stable = false;
    }
  }
  return { lo, hi, stable };
}

// pinGrad is a pinned run's gradient of the layer named, over the paths
// ticked when it has them (else its total), or null when it has no such layer.
function pinGrad(pin, name) {
  const i = pin.names.indexOf(name);
  if (i < 0) {
    return null;
  }
  if (pin.paths && !allPathsCounted()) {
    let g = 0;
    PATHS.forEach((p, k) => {
      if (paths[p]) {
        g += pin.paths[i][k];
      }
    });
    return g;
  }
  return pin.grad[i];
}

const signColour = (v) => (v < 0 ? COLOURS.negative : COLOURS.positive);
const descentWords = (v) => t(v > 0 ? 'descentLowers' : v < 0 ? 'descentRaises' : 'descentNone');

// gradOption is the gradient chart: the paths ticked summed per layer,
// coloured and placed by sign; with a spread (all paths ticked) each
// layer's range as a whisker and a layer whose sign changed pale, outlined
// and marked "?"; pinned runs' bars beside; symlog or linear.
function gradOption(option, result) {
  const o = base(option, result);
  const rows = horizontal(result);
  const grads = result.layers.map((l) => countedGrad(l, result));
  // The range is of the sum of all four paths: a ticked subset has none.
  const whole = !hasPaths(result) || allPathsCounted();
  const spreads = result.layers.map((l) => (whole ? spreadOf(l) : null));
  const withSpread = whole && result.spread_runs > 0 && spreads.every((s) => s);
  const subsetSpread = !whole && result.spread_runs > 0;
  const pins = pinned();
  const pinGrads = pins.map((pin) => result.layers.map((l) => pinGrad(pin, l.name)));
  const all = grads.concat(...pinGrads.map((g) => g.filter((v) => v !== null)));
  const c = symlogOf(all);
  const at = (v) => (v === null ? null : c ? symlog(v, c) : v);
  const markPos = rows ? 'right' : 'top';
  const series = {
    name: t('thisRun'),
    type: 'bar',
    itemStyle: { color: COLOURS.line },
    data: grads.map((v, i) => {
      // raw: the gradient itself, where value is its place on a symlog axis.
      const d = { value: at(v), raw: v, itemStyle: { color: signColour(v) } };
      if (withSpread && !spreads[i].stable) {
        d.itemStyle = { color: signColour(v), opacity: 0.35, borderColor: UNSTABLE, borderWidth: 2 };
        d.label = { show: true, position: markPos, formatter: '?', color: UNSTABLE, fontWeight: 'bold' };
      }
      return d;
    }),
    label: { show: true, position: markPos, formatter: (p) => (grads[p.dataIndex] > 0 ? '▼' : grads[p.dataIndex] < 0 ? '▲' : ''), color: COLOURS.label },
  };
  o.series = [series];
  pins.forEach((pin, k) => {
    o.series.push({
      name: t('pinnedRun', { k: k + 1, label: pin.label }),
      type: 'bar',
      itemStyle: { color: PIN_GREYS[k % PIN_GREYS.length] },
      data: pinGrads[k].map((v) =>
        v === null ? null : { value: at(v), raw: v, itemStyle: { color: signColour(v), opacity: 0.45, borderColor: PIN_GREYS[k % PIN_GREYS.length], borderWidth: 1.5, borderType: 'dashed' } }),
    });
  });
  if (withSpread) {
    o.series.push({
      name: t('rangeRuns'),
      type: 'boxplot',
      itemStyle: { color: 'transparent', borderColor: UNSTABLE, borderWidth: 1.5 },
      data: spreads.map((s, i) => ({ value: [at(s.lo), at(grads[i]), at(grads[i]), at(grads[i]), at(s.hi)] })),
      tooltip: { show: false },
    });
  }
  if (pins.length) {
    o.legend = { show: true, type: 'scroll', left: 8, right: 8, data: o.series.filter((x) => x.type === 'bar').map((x) => x.name) };
  }
  o.tooltip.formatter = (ps) => {
    const i = (Array.isArray(ps) ? ps[0] : ps).dataIndex;
    const v = grads[i];
    let html = `<b>${escapeHTML(result.layers[i].name)}</b><br/>dL/dthresh = ${fmt(v)}<br/>${escapeHTML(descentWords(v))}`;
    if (spreads[i]) {
      html += `<br/>${escapeHTML(t('rangeRuns'))}: ${fmt(spreads[i].lo)} … ${fmt(spreads[i].hi)}`;
      if (!spreads[i].stable) {
        html += `<br/><b>? ${escapeHTML(t('signNotRobustChart'))}</b>`;
      }
    }
    pins.forEach((pin, k) => {
      const g = pinGrads[k][i];
      html += `<br/>${escapeHTML(t('pinnedShort', { k: k + 1 }))}: ${g === null ? '—' : fmt(g)}` + (g === null ? '' : ` (Δ ${fmt(v - g)})`);
    });
    return html;
  };
  if (hasPaths(result) && !allPathsCounted()) {
    const names = PATHS.filter((p) => paths[p]).map((p) => t(PATH_KEYS[p]));
    o.title.text = t('gradTitleSome', { title: o.title.text, paths: names.length ? names.join(' + ') : t('noPaths') });
  }
  // The subtitle's lines; narrow, the two signs on a line each.
  const lines = drawWidth < 600 ? [`▼ ${t('signLegendPos')}`, `▲ ${t('signLegendNeg')}`] : [`▼ ${t('signLegendPos')}    ▲ ${t('signLegendNeg')}`];
  if (withSpread) {
    lines.push(t('whiskersNote', { runs: result.spread_runs }));
  } else if (subsetSpread) {
    lines.push(t('whiskersSubset'));
  }
  o.title.subtext = lines.join('\n');
  const textWidth = Math.min(560, drawWidth - 24);
  o.title.subtextStyle = { fontSize: 11, color: COLOURS.label, width: textWidth, overflow: 'break' };
  // Lines as drawn: a long one breaks (about 6 px a character).
  const drawnLines = lines.reduce((n, l) => n + Math.max(1, Math.ceil((l.length * 6) / textWidth)), 0);
  // The legend of pinned runs under the subtitle, the bars under both.
  if (pins.length) {
    o.legend.top = 44 + 16 * drawnLines;
  }
  o.grid[0].top = 62 + 16 * drawnLines + (pins.length ? 28 : 0);
  if (c) {
    onSymlog(o, c);
  }
  return o;
}

// pathsOption is the paths chart: stacked on a linear axis; side by side on
// a symlog one (a sum of logarithms is not the logarithm of a sum).
function pathsOption(option, result) {
  const o = base(option, result);
  o.legend = Object.assign({}, o.legend, { show: true, top: 32, selected: {} });
  const values = PATHS.map((p) => result.layers.map((l) => sum(l.grad_paths[p])));
  const c = symlogOf([].concat(...values));
  o.series.forEach((s, k) => {
    o.legend.selected[s.name] = paths[PATHS[k]];
    s.data = values[k].map((v) => (c ? symlog(v, c) : v));
    if (c) {
      delete s.stack;
    } else {
      s.stack = 'paths';
    }
  });
  o.tooltip.formatter = (ps) => {
    const i = (Array.isArray(ps) ? ps[0] : ps).dataIndex;
    let html = `<b>${escapeHTML(result.layers[i].name)}</b>`;
    PATHS.forEach((p, k) => {
      html += `<br/>${paths[p] ? '' : '<s>'}${escapeHTML(t(PATH_KEYS[p]))}: ${fmt(values[k][i])}${paths[p] ? '' : '</s>'}`;
    });
    return html + `<br/>dL/dthresh: ${fmt(countedGrad(result.layers[i], result))}`;
  };
  if (c) {
    onSymlog(o, c);
  }
  return o;
}

// The options of each chart, by key.
const OPTIONS = {
  thresh: (option, result) => named(base(option, result), 'colThresh'),
  rate: (option, result) => named(base(option, result), 'colRate'),
  grad: gradOption,
  paths: pathsOption,
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
let lastDrawn = null; // the run the charts show

export function draw(run, keys = null) {
  lastDrawn = run;
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
    // Rows: the chart is as tall as its layers need.
    const el = $('#chart-' + key);
    const height = horizontal(result) ? `${110 + ROW_HEIGHT * result.layers.length + (key === 'grad' ? 40 : 0)}px` : '';
    if (el.style.height !== height) {
      el.style.height = height;
    }
    drawWidth = el.clientWidth || 600;
    chart(key).setOption(OPTIONS[key](options[key], result), true);
  }
  if ($('#pins-list')) {
    renderPins();
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

// resize fits the charts to their boxes; the gradient and path charts,
// whose ticks and subtitle depend on the width, are made again a moment
// after the last resize.
let resizeTimer = 0;
export function resize() {
  for (const c of Object.values(instances)) {
    c.resize();
  }
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    if (lastDrawn) {
      draw(lastDrawn, ['grad', 'paths']);
    }
  }, 150);
}

// png is a chart's picture as a data: URL, or null before it is drawn.
export function png(key) {
  const c = instances[key];
  return c ? c.getDataURL({ type: 'png', pixelRatio: 2, backgroundColor: '#fff' }) : null;
}

// ---- Pinned runs (compare runs) ----

// pinned is the runs pinned, oldest first, as localStorage keeps them
// (a reload keeps them): {label, names, grad, paths, T, when}.
export function pinned() {
  try {
    const v = JSON.parse(localStorage.getItem(PINS_KEY) || '[]');
    return Array.isArray(v) ? v.filter((p) => p && Array.isArray(p.names) && Array.isArray(p.grad)).slice(-MAX_PINS) : [];
  } catch (err) {
    return [];
  }
}

function savePins(pins) {
  try {
    localStorage.setItem(PINS_KEY, JSON.stringify(pins.slice(-MAX_PINS)));
  } catch (err) {
    // A full or refused storage: the pins last until the page closes.
  }
}

// pinLabel names a run in the legend: its checkpoint and what sets it apart.
export function pinLabel(run) {
  const r = run.output.result;
  const name = String(run.ckpt.demo ? 'demo' : run.ckpt.name).replace(/\.[^.]*$/, '');
  return `${name} T=${r.T} n=${r.n}${r.precision === 'float64' ? ' f64' : ''}`;
}

// pin keeps run's gradients (and paths) as a pinned run; past MAX_PINS the
// oldest goes.
export function pin(run) {
  const r = run.output.result;
  const pins = pinned();
  pins.push({
    label: pinLabel(run),
    names: r.layers.map((l) => l.name),
    grad: r.layers.map((l) => sum(l.grad)),
    paths: hasPaths(r) ? r.layers.map((l) => PATHS.map((p) => sum(l.grad_paths[p]))) : null,
    T: r.T,
    when: Date.now(),
  });
  savePins(pins);
  return pinned();
}

export function unpinAll() {
  savePins([]);
}

// compareColumn is the table's hook (table.js): the difference of each
// layer's gradient (paths ticked) from the last pinned run's, or null with
// no pin: of(name) is null for a layer the pinned run has not.
export function compareColumn(result) {
  const pins = pinned();
  if (pins.length === 0) {
    return null;
  }
  const pin = pins[pins.length - 1];
  const byName = new Map(result.layers.map((l) => [l.name, l]));
  return {
    title: t('colPinDiff', { label: pin.label }),
    help: t('colPinDiffTitle', { label: pin.label }),
    of: (name) => {
      const g = pinGrad(pin, name);
      return g === null || !byName.has(name) ? null : countedGrad(byName.get(name), result) - g;
    },
  };
}

// ---- The conversion curve ----

// curveOption is snn/chart.CurveOptions: accuracy (left) and loss (right)
// against T, the run's T marked.
function curveOption(curve, runT) {
  const acc = { name: t('curveAccuracy'), type: 'line', data: curve.map((p) => p.accuracy), yAxisIndex: 0, showSymbol: false, color: '#27ae60' };
  if (runT >= 1 && runT <= curve.length) {
    acc.markLine = {
      symbol: 'none',
      silent: true,
      lineStyle: { color: COLOURS.line, type: 'dashed' },
      label: { formatter: t('curveThisT', { T: runT }), position: 'end' },
      data: [{ xAxis: String(runT) }],
    };
  }
  return {
    backgroundColor: '#fff',
    animation: false,
    title: { text: t('curveTitle', { tmax: curve.length }), left: 8, textStyle: { fontSize: 15 } },
    tooltip: { show: true, trigger: 'axis', valueFormatter: fmt },
    legend: { show: true, top: 30 },
    grid: [{ left: 16, right: 16, top: 70, bottom: 12, containLabel: true }],
    xAxis: [{ type: 'category', name: 'T', nameLocation: 'middle', nameGap: 24, data: curve.map((p) => String(p.T)), boundaryGap: false }],
    yAxis: [
      { type: 'value', name: t('curveAccuracy'), min: 0, max: 1, axisLabel: { formatter: (v) => `${Math.round(v * 100)}%` } },
      { type: 'value', name: t('curveLoss'), scale: true, splitLine: { show: false }, axisLabel: { formatter: fmtAxis } },
    ],
    series: [acc, { name: t('curveLoss'), type: 'line', data: curve.map((p) => p.loss), yAxisIndex: 1, showSymbol: false, color: '#8e44ad' }],
  };
}

// drawCurve draws run.curve (the conversion curve, main.js's curve call);
// without one the box says why (note: a key of words and its arguments).
export function drawCurve(run, note = null) {
  const box = $('#curve-box');
  if (!box || !run) {
    return;
  }
  box.hidden = false;
  $('#curve-note').textContent = note ? t(note.key, note.args) : '';
  const c = chart('curve');
  if (!run.curve) {
    c.clear();
    return;
  }
  c.setOption(curveOption(run.curve, run.output.result.T), true);
  if (c.getDom().clientWidth !== c.getWidth()) {
    c.resize();
  }
}

// ---- The controls by the gradient chart ----

// renderPins lists the pinned runs by the chart.
function renderPins() {
  const pins = pinned();
  $('#pins-list').textContent = pins.length ? t('pinsList', { n: pins.length, max: MAX_PINS, labels: pins.map((p, k) => `${k + 1}: ${p.label}`).join(' · ') }) : '';
  $('#pins-clear').hidden = pins.length === 0;
}

// bindControls wires the scale choice and the pin buttons; redraw draws
// the gradient and path charts and the table again, lastRun is the run shown.
export function bindControls(redraw, lastRun) {
  const select = $('#chart-scale');
  try {
    setScale(localStorage.getItem('spikegrad.scale') || 'auto');
  } catch (err) {
    // no storage: auto
  }
  select.value = scale;
  select.addEventListener('change', () => {
    setScale(select.value);
    try {
      localStorage.setItem('spikegrad.scale', scale);
    } catch (err) {
      // kept until the page closes
    }
    redraw();
  });
  $('#pin-run').addEventListener('click', () => {
    const run = lastRun();
    if (run) {
      pin(run);
      renderPins();
      redraw();
    }
  });
  $('#pins-clear').addEventListener('click', () => {
    unpinAll();
    renderPins();
    redraw();
  });
  renderPins();
}

// renderControls writes the controls' words again (a language switch).
export function renderControls() {
  if ($('#pins-list')) {
    renderPins();
  }
}
