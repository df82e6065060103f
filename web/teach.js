// teach.js: the views that explain the sign of dL/dthresh (issue 4), under the
// results: why this sign (d = mem - thresh, so the crossing term is minus the
// sum of dL/dd), one neuron over the steps, a threshold slider that re-runs
// the forward pass with the measured slope next to the surrogate gradient,
// and gradient steps on all thresholds.
//
// main.js calls init once, fresh for each run, redraw on a language switch
// and setStale when the page's files or settings are no longer the run's:
// every view computes on the run it explains, or not at all. For automation,
// window.spikegrad.teach holds the last answers (detail, slider, fd, fdAll,
// descent, search, opening) and counts them (details, forwards, fds,
// descents, errors).
//
// The lesson's defaults come from measurements (issue 15): the views open on
// a layer whose measured slope (finite difference) has the sign of its
// gradient, trying the layers with the largest |gradient| first, and the
// steps' learning rate comes from a line search (snn.LineSearch) unless
// the user turns it off.
import { $, COLOURS, MAX_STEPS, fmt, fmtAxis, escapeHTML, oneLine } from './util.js';
import { t, engineError } from './words.js';
import { Cancelled } from './engine.js';

const POSITIVE = COLOURS.positive;
const NEGATIVE = COLOURS.negative;
const AFTER = '#8250df'; // thresholds after the steps: neither sign's colour
let page = null; // {call(op, run, extra), lastRun()}: from main.js
const auto = { detail: null, slider: null, fd: null, fdAll: null, descent: null, search: null, opening: null, details: 0, forwards: 0, fds: 0, descents: 0, errors: 0, sliderMs: [] };
// The opening checks at most this many layers' finite differences (two
// forward passes each) before it settles on one.
const OPEN_TRIES = 3;
// The line search tries lr, lr/√2, lr/2, ... this many (snn.LineSearch).
const LR_TRIES = 10;

const st = {
  layer: 0,
  image: 0,
  neuron: -1, // -1: the engine picks one that both spikes and rests
  detail: null,
  slider: 0, // percent change of the chosen layer's threshold
  inflight: false,
  pending: false,
  run: null, // the run these views explain: its files, settings and result
  stale: false, // the page shows other files or settings than that run's: nothing is computed
};
const charts = {};

function chart(id) {
  if (!charts[id]) {
    charts[id] = echarts.init($('#' + id));
  }
  return charts[id];
}

function result() {
  return st.run && st.run.output.result;
}

// call asks the engine for a teaching view of the run these views explain
// (the engine refuses it when it holds other files); a stale view asks
// nothing, and work cut short by a new run or load is no error.
async function call(op, extra) {
  if (st.stale || !st.run) {
    throw new Cancelled('stale');
  }
  return page.call(op, st.run, extra);
}

function sum(a) {
  return a.reduce((s, v) => s + v, 0);
}

function showError(err) {
  if (err instanceof Cancelled) {
    return;
  }
  auto.errors++;
  const el = $('#teach-error');
  el.textContent = err && err.message ? engineError(err.message) : oneLine(err);
  el.hidden = false;
}

function clearError() {
  $('#teach-error').hidden = true;
}

function sign(v) {
  return v > 0 ? 1 : v < 0 ? -1 : 0;
}

// ---- A new run: pick a layer, fill the choices, ask for the detail ----

function freshViews() {
  st.detail = null;
  auto.detail = null;
  auto.slider = null;
  auto.fd = null;
  st.inflight = false;
  st.pending = false;
  const r = result();
  const box = $('#teach');
  if (!r || r.T === 0) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  auto.opening = null;
  auto.search = null;
  $('#teach-open').textContent = t('openChecking');
  $('#teach-open').className = 'note';
  // Until the opening check has measured, the layer with the largest |gradient|.
  st.layer = byGradient(r)[0];
  st.userPicked = false;
  st.image = Math.min(st.image, r.n - 1);
  st.neuron = -1;
  st.slider = 0;
  $('#teach-slider').value = '0';
  $('#fd-table').hidden = true;
  auto.fdAll = null;
  auto.descent = null;
  $('#step-out').textContent = '';
  $('#fd-one-out').textContent = '';
  // What the last run's measurements said is not this run's.
  $('#fd-summary').textContent = '';
  for (const id of ['chart-steps', 'chart-stepbars']) {
    if (charts[id]) {
      charts[id].clear();
    }
  }
  $('#steps-title').textContent = '';
  $('#stepbars-title').textContent = '';
  const th = r.layers.map((l) => sum(l.thresh) / l.thresh.length);
  const gmax = Math.max(...r.layers.map((l) => Math.abs(sum(l.grad))));
  // A learning rate whose largest move is about 5% of a threshold.
  $('#step-lr').value = gmax > 0 ? String(Number(((0.05 * Math.min(...th)) / gmax).toPrecision(2))) : '0.1';
  fillChoices();
  renderSliderText(null);
  openOn(st.run);
}

// byGradient lists the IF layers by |dL/dthresh| (summed over a layer's
// thresholds), largest first.
function byGradient(r) {
  const g = r.layers.map((l) => Math.abs(sum(l.grad)));
  return g.map((_, j) => j).sort((a, b) => g[b] - g[a] || a - b);
}

// openOn picks the layer the views open on: the first, by |gradient|, whose
// measured slope has the gradient's sign (at most OPEN_TRIES measured; none
// agreeing, the largest), then asks for its detail.
async function openOn(run) {
  const r = result();
  // The teaching views' work for this run goes on until its detail is in.
  $('#teach').dataset.detail = 'running';
  const tried = [];
  let chosen = null;
  try {
    for (const j of byGradient(r).slice(0, OPEN_TRIES)) {
      const out = await call('finiteDiff', { fd_step: Number($('#fd-step').value), fd_layers: [j], base: r });
      if (run !== st.run) {
        return;
      }
      const f = Object.assign({ layer: j }, out.fd[0]);
      tried.push(f);
      auto.fds++;
      if (f.agree === 'yes') {
        chosen = f;
        break;
      }
    }
  } catch (err) {
    if (run !== st.run) {
      return;
    }
    showError(err);
  }
  const pick = chosen || tried[0];
  if (st.userPicked) {
    // The user chose a layer meanwhile: theirs stays, and has its detail.
    auto.opening = { layer: pick ? pick.layer : st.layer, agree: !!chosen, tried };
    renderOpening();
    return;
  }
  if (pick && pick.layer !== st.layer) {
    st.layer = pick.layer;
    $('#teach-layer').value = String(st.layer);
  }
  auto.opening = { layer: st.layer, agree: !!chosen, tried };
  if (pick) {
    auto.fd = pick;
    $('#fd-one-out').textContent = fdOneText(pick);
  }
  renderOpening();
  requestDetail();
}

function renderOpening() {
  const o = auto.opening;
  const el = $('#teach-open');
  if (!o || !result()) {
    return;
  }
  const r = result();
  const f = (x) => (x > 0 ? '+' : '') + fmt(x);
  const pick = o.tried.find((x) => x.layer === o.layer);
  const skipped = o.tried.filter((x) => x.layer !== o.layer && x.agree !== 'yes');
  let text = '';
  if (pick && o.agree) {
    text = t('openAgrees', { layer: pick.name, slope: f(pick.slope), h: fmt(pick.h), grad: f(pick.grad) });
  } else if (pick) {
    text = t('openNone', { n: o.tried.length, layer: pick.name, slope: f(pick.slope), grad: f(pick.grad) }) + ' ' + t('fdWhyDiffer');
  } else {
    text = t('openUnmeasured', { layer: r.layers[o.layer].name });
  }
  if (o.agree && skipped.length) {
    text += ' ' + t('openSkipped', { layers: skipped.map((x) => `${x.name} (${f(x.slope)} / ${f(x.grad)})`).join(', ') });
  }
  el.textContent = text;
  el.className = 'note ' + (o.agree ? 'ok' : 'warn');
}

function fillChoices() {
  const r = result();
  const sel = $('#teach-layer');
  sel.textContent = '';
  r.layers.forEach((l, j) => {
    const g = sum(l.grad);
    const o = document.createElement('option');
    o.value = String(j);
    o.textContent = `${l.name}  (dL/dθ ${g < 0 ? '<' : g > 0 ? '>' : '='} 0: ${fmt(g)})`;
    sel.appendChild(o);
  });
  sel.value = String(st.layer);
  const img = $('#teach-image');
  img.textContent = '';
  const out = st.run.output;
  for (let i = 0; i < r.n; i++) {
    const o = document.createElement('option');
    o.value = String(i);
    const names = out.classNames;
    o.textContent = `#${i} (${names ? names[out.labels[i]] : out.labels[i]})`;
    img.appendChild(o);
  }
  img.value = String(st.image);
}

async function requestDetail() {
  clearError();
  $('#teach').dataset.detail = 'running';
  const run = st.run;
  try {
    const out = await call('detail', { detail: { layer: st.layer, image: st.image, neuron: st.neuron } });
    if (run !== st.run) {
      return; // for a run no longer shown
    }
    st.detail = out.result.detail;
    st.neuron = st.detail.neuron;
    auto.detail = st.detail;
    renderWhy();
    renderNeuron();
    auto.details++;
    $('#teach').dataset.detail = 'done';
  } catch (err) {
    if (run === st.run) {
      $('#teach').dataset.detail = err instanceof Cancelled ? 'cancelled' : 'error';
      showError(err);
    }
  }
}

// ---- 1. Why this sign ----

function diagram(d) {
  const sumg = d.sum_grad_d;
  const cross = d.crossing;
  const txt = (x, y, s, cls) => `<text x="${x}" y="${y}" class="${cls || ''}">${escapeHTML(s)}</text>`;
  // Scaled to its box (at most 470 px wide, the size it is drawn for); the
  // sums sit under the graph, clear of the edges' +1 and −1.
  return `<svg viewBox="0 0 470 196" preserveAspectRatio="xMinYMin meet" role="img" aria-label="${escapeHTML(t('whyDiagramLabel'))}">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>
<rect x="10" y="20" width="90" height="34" rx="6" class="node"/>${txt(55, 42, 'mem', 'c')}
<rect x="10" y="110" width="90" height="34" rx="6" class="node th"/>${txt(55, 132, 'thresh', 'c')}
<rect x="160" y="62" width="140" height="40" rx="6" class="node d"/>${txt(230, 87, 'd = mem − thresh', 'c')}
<rect x="340" y="65" width="70" height="34" rx="6" class="node"/>${txt(375, 87, 's = H(d)', 'c')}
<line x1="100" y1="40" x2="158" y2="72" marker-end="url(#arrow)" class="edge"/>${txt(124, 44, '+1', 'plus')}
<line x1="100" y1="126" x2="158" y2="94" marker-end="url(#arrow)" class="edge neg"/>${txt(138, 128, '−1', 'minus')}
<line x1="300" y1="82" x2="338" y2="82" marker-end="url(#arrow)" class="edge"/>
${txt(10, 170, `Σ dL/dd = ${fmt(sumg)}`, 'small sum')}
${txt(10, 190, `crossing = (−1) × Σ dL/dd = ${fmt(cross)}`, 'small strong')}
</svg>`;
}

function renderWhy() {
  const d = st.detail;
  const r = result();
  if (!d || !r) {
    return;
  }
  const layer = r.layers[d.layer];
  $('#why-layer').textContent = t('whyLayer', { layer: d.name });
  $('#why-diagram').innerHTML = diagram(d);
  // The histogram: only the bins from the first to the last that hold values.
  const bins = d.hist;
  let lo = bins.findIndex((b) => b.count > 0);
  let hi = bins.length - 1 - [...bins].reverse().findIndex((b) => b.count > 0);
  if (lo < 0) {
    lo = hi = (bins.length - 1) / 2;
  }
  const shown = bins.slice(lo, hi + 1);
  const label = (b) => (b.lo === 0 && b.hi === 0 ? '0' : b.lo < 0 ? `−${fmtAxis(-b.lo)}` : `+${fmtAxis(b.lo)}`);
  // The title and its note are the page's text above the chart (they wrap
  // at any width); the count's name stands along its axis.
  $('#hist-title').textContent = t('histTitle', { layer: d.name });
  $('#hist-sub').textContent = t('histSub');
  chart('chart-hist').setOption(
    {
      backgroundColor: '#fff',
      grid: { left: 30, right: 12, top: 16, bottom: 8, containLabel: true },
      tooltip: {
        trigger: 'item',
        formatter: (p) => {
          const b = shown[p.dataIndex];
          const range = b.lo === 0 && b.hi === 0 ? '0' : `[${fmt(b.lo)}, ${fmt(b.hi)})`;
          return `dL/dd ∈ ${range}<br/>${t('histCount')}: ${b.count}<br/>Σ = ${fmt(b.sum)}`;
        },
      },
      xAxis: { type: 'category', data: shown.map(label), axisLabel: { rotate: 60, fontSize: 10 } },
      yAxis: { type: 'log', name: t('histCount'), nameLocation: 'middle', nameGap: 40, min: 1, axisLabel: { formatter: fmtAxis } },
      series: [
        {
          type: 'bar',
          data: shown.map((b) => ({ value: Math.max(b.count, 0.9), itemStyle: { color: b.lo < 0 ? NEGATIVE : b.lo > 0 ? POSITIVE : COLOURS.zero } })),
        },
      ],
    },
    true,
  );
  // The four paths and the identity init = -0.5 x crossing, checked.
  const p = layer.grad_paths;
  const cr = sum(p.crossing);
  const am = sum(p.amplitude);
  const re = sum(p.reset);
  const ini = sum(p.init);
  const ratio = cr !== 0 ? ini / cr : null;
  const holds = ratio !== null && Math.abs(ratio + 0.5) < 1e-3;
  const rows = [
    [t('whySum'), fmt(d.sum_grad_d), ''],
    [t('whyCrossing'), fmt(cr), t('whyCrossingNote')],
    [t('pathAmplitude'), fmt(am), ''],
    [t('pathReset'), fmt(re), ''],
    [t('pathInit'), fmt(ini), ratio === null ? t('whyRatioNone') : t(holds ? 'whyRatioHolds' : 'whyRatioFails', { ratio: ratio.toFixed(6) })],
    [t('whyTotal'), fmt(cr + am + re + ini), t(sum(layer.grad) < 0 ? 'descentRaises' : sum(layer.grad) > 0 ? 'descentLowers' : 'descentNone')],
  ];
  const tb = $('#why-numbers tbody');
  tb.textContent = '';
  rows.forEach(([k, v, note], i) => {
    const tr = tb.insertRow();
    tr.insertCell().textContent = k;
    const c = tr.insertCell();
    c.textContent = v;
    c.className = 'num';
    tr.insertCell().textContent = note;
    if (i === 5) {
      tr.className = 'total';
    }
  });
  $('#why-numbers').dataset.ratio = ratio === null ? '' : String(ratio);
  const signCross = sign(cr);
  const signTotal = sign(cr + am + re + ini);
  $('#why-verdict').textContent = t(signCross === signTotal ? 'whySameSign' : 'whyOtherSign', { crossing: fmt(cr), total: fmt(cr + am + re + ini) });
  renderFragile();
}

// renderFragile says how firm the layer's sign is: its neuron-steps within
// float32 rounding of the threshold (near_threshold) and, once the run's
// sign check (spread) has come, whether the sign held in every run.
function renderFragile() {
  const r = result();
  const el = $('#why-fragile');
  if (!r || !st.detail) {
    return;
  }
  const l = r.layers[st.detail.layer];
  const near = l.near_threshold || 0;
  const parts = [t(near > 0 ? 'fragileNear' : 'fragileNone', { n: near, layer: l.name })];
  let held = null;
  if (Array.isArray(l.sign_stable) && l.sign_stable.length) {
    held = l.sign_stable.every(Boolean);
    const lo = Math.min(...l.grad_min);
    const hi = Math.max(...l.grad_max);
    const k = Math.max((r.spread_runs || 1) - 1, 0); // the nudged runs, besides the checkpoint's
    parts.push(t(held ? 'fragileHeld' : 'fragileFlipped', { runs: k, lo: fmt(lo), hi: fmt(hi), bad: l.sign_stable.filter((v) => !v).length, n: l.sign_stable.length }));
  }
  parts.push(t('fragileWhy'));
  parts.push(t(r.precision === 'float64' ? 'fragileIsF64' : 'fragileTryF64'));
  el.textContent = parts.join(' ');
  el.className = 'note ' + (held === false || (held === null && near > 0) ? 'warn' : '');
  el.dataset.near = String(near);
  el.dataset.held = held === null ? '' : String(held);
}

// ---- 2. One neuron ----

// The rate map: one tile per channel (H x W), tiles in rows.
function mapGeometry(d) {
  const cols = Math.ceil(Math.sqrt((d.C * d.H) / d.W));
  const rows = Math.ceil(d.C / cols);
  const cell = Math.max(2, Math.min(12, Math.floor(360 / (cols * (d.W + 1)))));
  return { cols, rows, cell, tileW: d.W * cell + 2, tileH: d.H * cell + 2 };
}

function renderNeuron() {
  const d = st.detail;
  if (!d) {
    return;
  }
  const g = mapGeometry(d);
  const canvas = $('#rate-map');
  canvas.width = g.cols * g.tileW;
  canvas.height = g.rows * g.tileH;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const hw = d.H * d.W;
  for (let c = 0; c < d.C; c++) {
    const ox = (c % g.cols) * g.tileW;
    const oy = Math.floor(c / g.cols) * g.tileH;
    for (let p = 0; p < hw; p++) {
      const v = d.rate[c * hw + p];
      const k = Math.round(255 * (1 - v));
      ctx.fillStyle = `rgb(${k},${k},255)`;
      ctx.fillRect(ox + (p % d.W) * g.cell, oy + Math.floor(p / d.W) * g.cell, g.cell, g.cell);
    }
  }
  const c = Math.floor(d.neuron / hw);
  const p = d.neuron % hw;
  ctx.strokeStyle = COLOURS.positive;
  ctx.lineWidth = 2;
  ctx.strokeRect((c % g.cols) * g.tileW + (p % d.W) * g.cell - 1, Math.floor(c / g.cols) * g.tileH + Math.floor(p / d.W) * g.cell - 1, g.cell + 2, g.cell + 2);

  const tr = d.trace;
  const th = d.thresh;
  const mem = [];
  tr.forEach((s, i) => {
    mem.push([i + 1, s.mem]);
    mem.push([i + 1.5, s.mem_after]);
  });
  // The axis always shows the threshold and the window around it.
  const ys = mem.map((m) => m[1]).concat([th - d.gamma, th + d.gamma]);
  const ymin = Math.min(...ys);
  const ymax = Math.max(...ys);
  const pad = 0.05 * (ymax - ymin || 1);
  // The steps are 1..T on both axes: ticks and labels on the integers (the
  // axis runs from 0 to T + 1, whose end labels are left out), the
  // potential after a reset half a step later.
  const T = tr.length;
  const stepLabel = (v) => (v >= 1 && v <= T && Number.isInteger(v) ? String(v) : '');
  const el = $('#chart-trace');
  $('#trace-title').textContent = t('traceTitle', { layer: d.name, c, y: Math.floor(p / d.W), x: p % d.W, image: d.image });
  const narrow = el.clientWidth < 520;
  st.narrow = narrow;
  chart('chart-trace').setOption(
    {
      backgroundColor: '#fff',
      legend: { top: 0, left: 8, right: 8, type: narrow ? 'scroll' : 'plain' },
      grid: [
        { left: 12, right: 16, top: 60, height: '44%', containLabel: true },
        { left: 12, right: 16, top: '74%', bottom: 8, containLabel: true },
      ],
      tooltip: { trigger: 'axis', valueFormatter: fmt },
      xAxis: [
        { type: 'value', min: 0, max: T + 1, interval: 1, gridIndex: 0, name: t('traceStep'), nameLocation: 'middle', nameGap: 22, axisLabel: { formatter: stepLabel } },
        { type: 'value', min: 0, max: T + 1, interval: 1, gridIndex: 1, axisLabel: { formatter: stepLabel } },
      ],
      yAxis: [
        { type: 'value', gridIndex: 0, name: 'mem', min: ymin - pad, max: ymax + pad, axisLabel: { formatter: fmtAxis } },
        { type: 'value', gridIndex: 1, name: 'dL/dd', axisLabel: { formatter: fmtAxis } },
      ],
      series: [
        {
          name: t('traceMem'),
          type: 'line',
          data: mem,
          symbolSize: 5,
          markLine: {
            symbol: 'none',
            lineStyle: { color: COLOURS.line, type: 'dashed' },
            data: [{ yAxis: th, name: 'thresh' }],
            // Inside the plot, above the line's end: never cut by the edge.
            label: { formatter: `thresh ${fmt(th)}`, position: 'insideEndTop', color: COLOURS.line },
          },
          markArea: { itemStyle: { color: COLOURS.window }, data: [[{ yAxis: th - d.gamma, name: t('traceWindow') }, { yAxis: th + d.gamma }]] },
        },
        {
          name: t('traceSpike'),
          type: 'scatter',
          symbol: 'triangle',
          symbolSize: 12,
          itemStyle: { color: POSITIVE },
          data: tr.map((s, i) => (s.s ? [i + 1, s.mem] : null)).filter(Boolean),
        },
        // dL/dd in two series, one colour each, so each legend swatch has
        // its bars' colour.
        ...[
          ['dL/dd > 0', POSITIVE, (g) => g > 0],
          ['dL/dd < 0', NEGATIVE, (g) => g < 0],
        ].map(([name, color, keep]) => ({
          name,
          type: 'bar',
          xAxisIndex: 1,
          yAxisIndex: 1,
          barWidth: 14,
          barGap: '-100%',
          itemStyle: { color },
          data: tr.map((s, i) => [i + 1, keep(s.grad_d) ? s.grad_d : '-']),
        })),
      ],
    },
    true,
  );
  const spikes = tr.reduce((a, s) => a + s.s, 0);
  const inside = tr.filter((s) => Math.abs(s.d) < d.gamma).length;
  $('#neuron-caption').textContent = t('neuronCaption', { spikes, T: tr.length, inside, gamma: d.gamma, sum: fmt(sum(tr.map((s) => s.grad_d))) });
}

function mapClick(event) {
  const d = st.detail;
  if (!d || st.stale) {
    return;
  }
  const canvas = $('#rate-map');
  const rect = canvas.getBoundingClientRect();
  const x = ((event.clientX - rect.left) * canvas.width) / rect.width;
  const y = ((event.clientY - rect.top) * canvas.height) / rect.height;
  const g = mapGeometry(d);
  const c = Math.floor(y / g.tileH) * g.cols + Math.floor(x / g.tileW);
  const px = Math.floor((x % g.tileW) / g.cell);
  const py = Math.floor((y % g.tileH) / g.cell);
  if (c >= d.C || px >= d.W || py >= d.H) {
    return;
  }
  st.neuron = c * d.H * d.W + py * d.W + px;
  requestDetail();
}

// ---- 3. The slider: forward-only re-runs ----

function movedThresholds(pct, j) {
  const r = result();
  return r.layers.map((l, k) => l.thresh.map((v) => (k === j ? v * (1 + pct / 100) : v)));
}

async function sliderRun() {
  if (st.inflight) {
    st.pending = true;
    return;
  }
  st.inflight = true;
  st.pending = false;
  const pct = st.slider;
  const j = st.layer;
  const t0 = performance.now();
  const run = st.run;
  try {
    const out = await call('forward', { thresh: movedThresholds(pct, j) });
    if (run !== st.run) {
      return;
    }
    const ms = performance.now() - t0;
    auto.sliderMs.push(ms);
    auto.slider = { pct, layer: j, result: out.result, ms, engineSeconds: out.seconds };
    auto.forwards++;
    if (pct === st.slider && j === st.layer) {
      renderSliderText(auto.slider);
    }
  } catch (err) {
    showError(err);
  } finally {
    st.inflight = false;
    if (st.pending) {
      sliderRun();
    }
  }
}

function renderSliderText(s) {
  const r = result();
  if (!r) {
    return;
  }
  const l = r.layers[st.layer];
  const th0 = sum(l.thresh) / l.thresh.length;
  $('#slider-value').textContent = `θ = ${fmt(th0 * (1 + st.slider / 100))} (${st.slider > 0 ? '+' : ''}${st.slider}%)`;
  const out = $('#slider-out');
  if (!s || s.layer !== st.layer || s.pct === 0) {
    out.textContent = t('sliderIdle', { layer: l.name, loss: fmt(r.loss), rate: fmt(l.firing_rate) });
    $('#slider-verdict').textContent = '';
    $('#slider-verdict').className = 'verdict';
    return;
  }
  const g = sum(l.grad);
  const dth = th0 * (s.pct / 100);
  const dLoss = s.result.loss - r.loss;
  const predicted = g * dth;
  const same = sign(dLoss) === sign(predicted) && dLoss !== 0;
  out.textContent = t('sliderReadout', {
    loss0: fmt(r.loss),
    loss: fmt(s.result.loss),
    dloss: (dLoss >= 0 ? '+' : '') + fmt(dLoss),
    rate0: fmt(l.firing_rate),
    rate: fmt(s.result.layers[st.layer].firing_rate),
    pred: (predicted >= 0 ? '+' : '') + fmt(predicted),
    ms: Math.round(s.ms),
  });
  const verdict = $('#slider-verdict');
  verdict.textContent = dLoss === 0 ? t('sliderFlat') : t(same ? 'sliderAgrees' : 'sliderDisagrees');
  verdict.className = 'verdict ' + (dLoss === 0 ? '' : same ? 'ok' : 'bad');
}

function agreeText(a) {
  return t(a === 'yes' ? 'fdYes' : a === 'no' ? 'fdNo' : 'fdFlat');
}

// fdOneText says one layer's measured slope against its gradient, and why
// they can differ when they do.
function fdOneText(f) {
  const s = t('fdOne', { layer: f.name, h: fmt(f.h), slope: fmt(f.slope), grad: fmt(f.grad), agree: agreeText(f.agree) });
  return f.agree === 'yes' ? s : s + ' ' + t('fdWhyDiffer');
}

async function fdOne() {
  clearError();
  const step = Number($('#fd-step').value);
  try {
    const run = st.run;
    const out = await call('finiteDiff', { fd_step: step, fd_layers: [st.layer], base: result() });
    if (run !== st.run) {
      return;
    }
    const f = out.fd[0];
    auto.fd = f;
    auto.fds++;
    $('#fd-one-out').textContent = fdOneText(f);
  } catch (err) {
    showError(err);
  }
}

async function fdAll() {
  clearError();
  const step = Number($('#fd-step').value);
  const button = $('#fd-all');
  button.disabled = true;
  try {
    const run = st.run;
    const out = await call('finiteDiff', { fd_step: step, base: result() });
    if (run !== st.run) {
      return;
    }
    auto.fdAll = out.fd;
    auto.fds++;
    renderFDTable();
  } catch (err) {
    showError(err);
  } finally {
    button.disabled = st.stale;
  }
}

function renderFDTable() {
  const fd = auto.fdAll;
  const table = $('#fd-table');
  if (!fd) {
    table.hidden = true;
    return;
  }
  table.hidden = false;
  const head = table.tHead || table.createTHead();
  head.textContent = '';
  const hr = head.insertRow();
  for (const k of ['colLayer', 'fdColH', 'fdColPlus', 'fdColMinus', 'fdColSlope', 'fdColGrad', 'fdColSame']) {
    const th = document.createElement('th');
    th.textContent = t(k);
    hr.appendChild(th);
  }
  const body = table.tBodies[0] || table.createTBody();
  body.textContent = '';
  let same = 0;
  for (const f of fd) {
    const tr = body.insertRow();
    tr.insertCell().textContent = f.name;
    for (const v of [f.h, f.loss_plus, f.loss_minus, f.slope, f.grad]) {
      const c = tr.insertCell();
      c.textContent = fmt(v);
      c.className = 'num';
      c.title = String(v);
    }
    const c = tr.insertCell();
    c.textContent = agreeText(f.agree);
    c.className = f.agree === 'yes' ? 'ok' : f.agree === 'no' ? 'bad' : '';
    same += f.agree === 'yes' ? 1 : 0;
  }
  $('#fd-summary').textContent = t('fdSummary', { same, n: fd.length }) + (same < fd.length ? ' ' + t('fdWhyDiffer') : '');
}

// ---- 4. Take steps ----

async function descend() {
  clearError();
  const lr = Number($('#step-lr').value);
  const steps = Number($('#step-n').value);
  const search = $('#step-search').checked;
  const button = $('#step-go');
  button.disabled = true;
  $('#step-out').textContent = t(search ? 'stepSearching' : 'stepRunning');
  $('#step-out').className = 'verdict';
  try {
    const run = st.run;
    let pts;
    if (search) {
      const out = await call('lineSearch', { lr, steps, tries: LR_TRIES, base: result() });
      if (run !== st.run) {
        return;
      }
      auto.search = out.search;
      pts = out.search.steps;
    } else {
      const out = await call('descend', { lr, steps });
      if (run !== st.run) {
        return;
      }
      auto.search = null;
      pts = out.steps;
    }
    auto.descent = pts;
    auto.descents++;
    renderDescent();
  } catch (err) {
    showError(err);
  } finally {
    button.disabled = st.stale;
  }
}

function renderDescent() {
  const pts = auto.descent;
  const r = result();
  if (!pts || !r) {
    return;
  }
  $('#steps-title').textContent = t('stepsTitle');
  $('#stepbars-title').textContent = t('stepBarsTitle');
  chart('chart-steps').setOption(
    {
      backgroundColor: '#fff',
      grid: { left: 12, right: 16, top: 36, bottom: 30, containLabel: true },
      tooltip: { trigger: 'axis', valueFormatter: fmt },
      xAxis: { type: 'category', name: t('stepsAxis'), nameLocation: 'middle', nameGap: 26, data: pts.map((_, k) => String(k)) },
      yAxis: { type: 'value', scale: true, name: t('stepsLoss'), axisLabel: { formatter: fmtAxis } },
      series: [{ type: 'line', name: t('stepsLoss'), data: pts.map((p) => p.loss), symbolSize: 8 }],
    },
    true,
  );
  const last = pts[pts.length - 1];
  chart('chart-stepbars').setOption(
    {
      backgroundColor: '#fff',
      legend: { top: 0 },
      grid: { left: 12, right: 16, top: 36, bottom: 8, containLabel: true },
      tooltip: { trigger: 'axis', valueFormatter: fmt },
      xAxis: { type: 'category', data: r.layers.map((l) => l.name), axisLabel: { rotate: 45, fontSize: 10 } },
      yAxis: { type: 'value', scale: true, axisLabel: { formatter: fmtAxis } },
      series: [
        { type: 'bar', name: t('stepBefore'), data: pts[0].thresh.map((v) => sum(v) / v.length), itemStyle: { color: COLOURS.before } },
        // One colour, the legend's: which way each threshold moved is the
        // bars' difference (the sign colours are the gradient's charts').
        { type: 'bar', name: t('stepAfter'), data: last.thresh.map((v) => sum(v) / v.length), itemStyle: { color: AFTER } },
      ],
    },
    true,
  );
  const down = last.loss < pts[0].loss;
  const every = pts.every((p, k) => k === 0 || p.loss < pts[k - 1].loss);
  const s = auto.search;
  let text = '';
  if (s) {
    const tries = s.tries.map((x) => `${fmt(x.lr)} (${x.lowered ? t('tryLowered') : t('tryRose', { step: x.losses.length - 1 })})`).join(', ');
    text = t(s.found ? 'searchFound' : 'searchNone', { lr: fmt(s.lr), steps: Number($('#step-n').value), tries }) + ' ';
  }
  const losses = pts.map((p) => fmt(p.loss)).join(' → ');
  if (pts.length < 2) {
    text += t('stepNone');
  } else if (every) {
    text += t('stepEvery', { losses, steps: pts.length - 1 });
  } else {
    const k = pts.findIndex((p, i) => i > 0 && p.loss >= pts[i - 1].loss);
    text += t(down ? 'stepSomeRise' : 'stepRiseEnd', { losses, step: k, steps: pts.length - 1 }) + ' ' + t('stepWhyRise');
  }
  $('#step-out').textContent = text;
  $('#step-out').className = 'verdict ' + (every && pts.length > 1 ? 'ok' : down ? '' : 'bad');
}

// ---- Wiring ----

function bind() {
  $('#teach-layer').addEventListener('change', () => {
    st.layer = Number($('#teach-layer').value);
    st.userPicked = true;
    st.neuron = -1;
    st.slider = 0;
    $('#teach-slider').value = '0';
    $('#fd-one-out').textContent = '';
    renderSliderText(null);
    requestDetail();
  });
  $('#teach-image').addEventListener('change', () => {
    st.image = Number($('#teach-image').value);
    st.neuron = -1;
    requestDetail();
  });
  $('#rate-map').addEventListener('click', mapClick);
  $('#teach-slider').addEventListener('input', () => {
    st.slider = Number($('#teach-slider').value);
    renderSliderText(auto.slider);
    sliderRun();
  });
  $('#fd-one').addEventListener('click', fdOne);
  $('#fd-all').addEventListener('click', fdAll);
  $('#step-go').addEventListener('click', descend);
  window.addEventListener('resize', () => {
    Object.values(charts).forEach((c) => c.resize());
    // The trace's legend scrolls on a narrow chart: draw it again when the
    // width crosses that line.
    if (st.detail && charts['chart-trace'] && (($('#chart-trace').clientWidth < 520) !== st.narrow)) {
      renderNeuron();
    }
  });
  // The run's sign check (main.js's spread phase) replaces its result with
  // one that has each layer's sign_stable: say what it found.
  new MutationObserver(() => {
    if (document.body.dataset.spread === 'done') {
      renderFragile();
    }
  }).observe(document.body, { attributes: true, attributeFilter: ['data-spread'] });
}

// init starts the views: page gives the engine's calls for a run.
export function init(p) {
  page = p;
  $('#step-n').max = String(MAX_STEPS);
  window.spikegrad.teach = auto;
  bind();
}

// fresh shows the views of a new run.
export function fresh(run) {
  st.run = run;
  st.stale = false;
  setControls();
  freshViews();
}

// redraw draws what is there again (a language switch).
export function redraw() {
  if (result() && result().T > 0) {
    fillChoices();
    renderWhy();
    renderNeuron();
    renderSliderText(auto.slider);
    renderFDTable();
    renderDescent();
    renderOpening();
    if (auto.fd && auto.fd.name === result().layers[st.layer].name) {
      $('#fd-one-out').textContent = fdOneText(auto.fd);
    }
  }
}

// setStale marks the views as of another run than the page's files and
// settings: they stay as they were, and ask the engine nothing.
export function setStale(stale) {
  if (st.stale !== stale) {
    st.stale = stale;
    setControls();
  }
}

// cancel forgets work cut short (a new run restarts the worker doing it).
export function cancel() {
  st.inflight = false;
  st.pending = false;
}

function setControls() {
  for (const sel of ['#teach-layer', '#teach-image', '#teach-slider', '#fd-one', '#fd-all', '#step-go', '#fd-step', '#step-lr', '#step-n', '#step-search']) {
    $(sel).disabled = st.stale;
  }
  $('#rate-map').classList.toggle('stale', st.stale);
}
