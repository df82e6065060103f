// main.js: the page. It starts the engine's workers (engine.js), loads the
// files the user chooses, one after another in the order chosen (never
// dropping one), runs, and draws what comes back (charts.js, table.js,
// teach.js). The page's state has one owner, state.js.
//
// For automation: after each run window.spikegrad.lastResult holds the run's
// result object and document.body.dataset.state is "done", or "error" with
// the one-line message in #error. The state is "running" during a run and
// "starting", "loading", "ready" or "cancelled" otherwise. The counters
// window.spikegrad.runs and .loads go up by one when a run or a file load
// ends, however it ends (a run, once all its charts are drawn; a run that
// does not start counts too). #results and #teach carry data-stale="true"
// while they are of other files or settings than the page shows.
import { $, CHART_KEYS, CHECKPOINT_NAME, MAX_THUMBS, fmtBytes, sum, afterFrame, oneLine } from './util.js';
import { t, getLang, setLang, onLang, engineError, formatName } from './words.js';
import { Pool, Cancelled } from './engine.js';
import { state, newId, onChange, changed, setCheckpoint, setData, setRun, files, staleness } from './state.js';
import * as settingsForm from './settings.js';
import * as charts from './charts.js';
import * as table from './table.js';
import * as teach from './teach.js';
import * as spread from './spread.js';
import * as curve from './curve.js';

// What automation reads.
const api = {
  lastResult: null, // the last run's result object
  lastRun: null, // the last run's whole reply, without the pixels, with the files it ran on
  runs: 0, // runs finished, with a result or an error, or not started
  loads: 0, // files handed to the engine, loaded or refused
  curves: 0, // conversion curves (curve.js, after a run) ended, drawn or not; body data-curve says how
  spreads: 0, // sign checks (a run's spread phase, after its bars) ended: done, failed or cancelled; body data-spread says which
  timings: {}, // ms since navigation start: engineReady, demoRun, demoCharts (options made), demoBars (thresholds and gradients drawn), demoAll (every chart)
  csv: () => table.csv(state.lastRun),
  json: () => (state.lastRun ? table.json(state.lastRun) : ''), // the JSON export's text
  held: () => pool.slots.map((s) => s.held), // which files each worker holds, by the page's ids
  state, // the page's state (state.js), read only
};
window.spikegrad = api;

let pool = null;
let runSeq = 0; // a run's answer counts only while this is its number
let status = { key: 'stateStarting', args: {} };
let errorSource = null; // what #error says: 'file', 'settings' or 'run'
let errorText = null; // makes #error's line again in the page's language, when it can be

// ---- Status and errors ----

function setState(s, key, args) {
  document.body.dataset.state = s;
  status = { key, args: args || {} };
  renderStatus();
}

function renderStatus() {
  const args = Object.assign({}, status.args);
  if (args.phase) {
    args.phase = t(args.phase === 'backward' ? 'phaseBackward' : 'phaseForward');
  }
  let text = t(status.key, args);
  if (status.key === 'progress' && !status.args.layer) {
    text = t('progressNoLayer', args);
  }
  if (state.queued > 0 && status.key !== 'stateStarting') {
    text += ' ' + t('queuedNote', { n: state.queued });
  }
  $('#status-text').textContent = text;
}

// showError shows one line in #error; source says what it is about, so
// that a change of the settings clears the settings' and the run's. message
// is the line, or a function that makes it in the page's language, called
// again when the language changes.
function showError(message, source) {
  const el = $('#error');
  errorText = typeof message === 'function' ? message : null;
  el.textContent = errorText ? errorText() : message;
  el.hidden = false;
  errorSource = source;
}

function clearError(sources) {
  if (sources && !sources.includes(errorSource)) {
    return;
  }
  const el = $('#error');
  el.textContent = '';
  el.hidden = true;
  errorSource = null;
  errorText = null;
}

function updateControls() {
  $('#run').disabled = state.running || state.runQueued;
  $('#cancel').disabled = !state.running && !state.spreading && document.body.dataset.curve !== 'running';
  document.body.classList.toggle('busy', state.running || state.queued > 0);
  // "Use this description" builds a checkpoint the user chose.
  $('#arch-apply').disabled = !state.lastCheckpointBytes;
  $('#arch-apply').title = state.lastCheckpointBytes ? '' : t('archNoCheckpoint');
}

// ---- The queue: loads and runs, one at a time, in the order asked ----

let queue = Promise.resolve();
let loadsSinceRun = []; // {done, ok} of the loads asked since the last Run click

function enqueue(job) {
  state.queued++;
  renderStatus();
  updateControls();
  const step = queue.then(async () => {
    state.queued--;
    try {
      return await job();
    } finally {
      renderStatus();
      updateControls();
    }
  });
  queue = step.catch(() => {});
  return step;
}

// load queues a file load: f does it, and resolves when the page holds the
// file, or throws the engine's refusal (nothing changed).
function load(name, f) {
  const mark = { done: false, ok: false, name };
  loadsSinceRun.push(mark);
  return enqueue(async () => {
    setState('loading', 'reading', { name });
    try {
      // The teaching views' work and the sign check are for files that are
      // about to change.
      stopSpread();
      curve.stop();
      pool.stopTeaching();
      // Worker 0 holds the page's files before it takes a new one (after a
      // restart it holds none); a data file that does not fit the
      // checkpoint does not stop the file that replaces one of them.
      await pool.ensure(0, files()).catch((err) => {
        if (err instanceof Cancelled) {
          throw err;
        }
      });
      await f(mark);
      mark.ok = true;
      clearError(['file']);
      setState('ready', 'stateReady');
      pool.prepare(files());
    } catch (err) {
      if (!(err instanceof Cancelled)) {
        showError(() => oneLine(engineError(err.message) + (err.note ? ' ' + err.note : '')), 'file');
        setState('error', 'stateError');
      }
    } finally {
      mark.done = true;
      renderFiles();
      api.loads++;
    }
  });
}

// chooseCheckpoint reads a checkpoint the user chose and gives it to the
// engine; a data file refused for the network held before is tried again.
function chooseCheckpoint(file, description) {
  if (!file) {
    return;
  }
  return load(file.name, async () => {
    let rec = file;
    if (!description) {
      const bytes = new Uint8Array(await file.arrayBuffer());
      rec = { name: file.name, size: file.size, bytes };
      // Kept even when refused: a description may still build it.
      state.lastCheckpointBytes = rec;
    }
    const ckpt = { id: newId('ckpt'), demo: false, name: rec.name, size: rec.size, bytes: rec.bytes, description: description || '' };
    ckpt.info = await pool.load('loadCheckpoint', ckpt.name, ckpt.bytes, ckpt.description, ckpt.id);
    setCheckpoint(ckpt);
    if (!description) {
      showDescription(ckpt.info);
    }
    if (ckpt.info.batchError) {
      state.data.error = engineError(ckpt.info.batchError);
    } else if (state.data.error) {
      delete state.data.error;
    }
    const waiting = state.waiting;
    if (waiting) {
      state.waiting = null;
      waiting.info = await pool.load('loadBatch', waiting.names, waiting.files, waiting.id);
      setData(waiting);
      waiting.mark.ok = true; // its load, refused before, is taken now
    }
    if (state.data.error) {
      throw new Error(state.data.error);
    }
  });
}

// What the engine says of a data file that may fit another network.
const FOR_ANOTHER_NETWORK = /\bclasses\b|the model takes/;

// chooseData gives the engine the data file(s) chosen: the Files
// themselves, which the engines read in slices (a 170 MB archive is never
// whole in memory) and every worker shares.
function chooseData(fileList, paths = null) {
  const list = Array.from(fileList);
  if (list.length === 0) {
    return;
  }
  // A file's name for the engine: its path under a dropped or chosen
  // folder, from which an ImageFolder tree's classes are read.
  const names = paths || list.map((f) => f.webkitRelativePath || f.name);
  const data = {
    id: newId('data'),
    demo: false,
    name: list.length === 1 ? list[0].name : `${list.length} images`,
    names,
    files: list,
    size: sum(list.map((f) => f.size)),
  };
  return load(list.length === 1 ? list[0].name : t('nFiles', { n: list.length }), async (mark) => {
    data.mark = mark;
    try {
      data.info = await pool.load('loadBatch', data.names, data.files, data.id);
    } catch (err) {
      if (!(err instanceof Cancelled) && FOR_ANOTHER_NETWORK.test(err.message)) {
        // A batch for a network not loaded yet (its labels or its image
        // size are another network's): tried again with the next checkpoint.
        state.waiting = data;
        renderFiles();
        err.note = t('waitingNote');
      }
      throw err;
    }
    state.waiting = null;
    setData(data);
  });
}

// applyDescription builds the last checkpoint chosen with the text area's
// description.
function applyDescription() {
  const file = state.lastCheckpointBytes;
  if (!file) {
    showError(() => t('archNoCheckpoint'), 'file');
    return;
  }
  return chooseCheckpoint(file, $('#arch-text').value);
}

// showDescription writes the network's architecture description into the
// text area, one module a line, so that it can be read and edited.
function showDescription(info) {
  const d = info && info.description;
  if (!d) {
    return;
  }
  const head = Object.assign({}, d);
  delete head.modules;
  const mods = (d.modules || []).map((m) => '  ' + JSON.stringify(m));
  $('#arch-text').value = JSON.stringify(head).replace(/\}$/, ', "modules": [\n') + mods.join(',\n') + '\n]}\n';
}

// ---- The file panel ----

function renderFiles() {
  const { ckpt, data } = state;
  if (!ckpt || !data) {
    return;
  }
  $('#ckpt-name').textContent = table.fileLabel(ckpt);
  const ci = ckpt.info || {};
  $('#ckpt-info').textContent = t('ckptInfo', { arch: ci.arch, classes: ci.classes, layers: (ci.layers || []).length }) + (ckpt.size ? ' · ' + fmtBytes(ckpt.size) : '');
  $('#data-name').textContent = data.names && data.names.length > 1 ? t('nFiles', { n: data.names.length }) : table.fileLabel(data);
  let info = dataInfo(data);
  if (data.error) {
    info += ' · ' + t('dataDoesNotFit');
  }
  if (state.waiting) {
    info += ' · ' + t('waitingFile', { name: state.waiting.names.length > 1 ? t('nFiles', { n: state.waiting.names.length }) : state.waiting.name });
  }
  $('#data-info').textContent = info;
  $('#data-drop').classList.toggle('misfit', !!data.error);
  $('#arch-demo').hidden = !ckpt.demo;
}

// dataInfo says what a data file was read as: size, images, format, and
// how many images have no label.
function dataInfo(data) {
  const info = data.info || {};
  if (data.demo) {
    return t('demoLoaded', { images: info.images });
  }
  const bytes = fmtBytes(data.size || info.bytes || 0);
  if (info.images === undefined) {
    return t('dataInfo', { bytes });
  }
  let text = t('dataRead', { bytes, images: info.images, format: formatName(info.format) + (info.member ? ' · ' + info.member : '') });
  if (info.unlabelled) {
    text += ' · ' + t('unlabelledNote', { k: info.unlabelled, n: info.images });
  }
  return text;
}

// ---- Stale results ----

function renderStale() {
  const why = staleness();
  const text = why ? t('staleNote', { why: why.map((k) => t(k)).join(t('listSep')) }) : '';
  for (const sel of ['#results', '#teach']) {
    $(sel).dataset.stale = why ? 'true' : 'false';
  }
  for (const sel of ['#stale-note', '#teach-stale']) {
    $(sel).hidden = !why;
    $(sel).textContent = text;
  }
  teach.setStale(!!why);
}

// ---- Files chosen and dropped ----

function kindOf(file) {
  return CHECKPOINT_NAME.test(file.name) ? 'checkpoint' : 'data';
}

function bindFiles() {
  $('#arch-apply').addEventListener('click', applyDescription);
  for (const [input, kind] of [['#ckpt-file', 'checkpoint'], ['#data-file', 'data']]) {
    const el = $(input);
    el.addEventListener('change', () => {
      const list = Array.from(el.files);
      el.value = ''; // so that choosing the same file again loads it again
      if (kind === 'data') {
        chooseData(list);
      } else {
        chooseCheckpoint(list[0]);
      }
    });
  }

  // A drop on a file box loads that kind; elsewhere the name decides, the
  // checkpoint first (the data is read for its network).
  let hideOverlay = 0;
  document.addEventListener('dragover', (event) => {
    if (!event.dataTransfer || !Array.from(event.dataTransfer.types).includes('Files')) {
      return;
    }
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    $('#drop-overlay').hidden = false;
    for (const box of document.querySelectorAll('.drop')) {
      box.classList.toggle('over', box.contains(event.target));
    }
    clearTimeout(hideOverlay);
    hideOverlay = setTimeout(endDrag, 300);
  });
  document.addEventListener('drop', (event) => {
    if (!event.dataTransfer || event.dataTransfer.files.length === 0) {
      return;
    }
    event.preventDefault();
    endDrag();
    // A dropped folder is read whole, each file named by its path in it.
    const entries = Array.from(event.dataTransfer.items || [], (it) => it.webkitGetAsEntry && it.webkitGetAsEntry());
    if (entries.some((e) => e && e.isDirectory)) {
      folderFiles(entries.filter(Boolean)).then(({ files, paths }) => chooseData(files, paths),
        (err) => showError(() => oneLine(String(err && err.message ? err.message : err)), 'file'));
      return;
    }
    const box = event.target.closest && event.target.closest('.drop');
    const list = Array.from(event.dataTransfer.files);
    // One file, or data files only, go to the box they were dropped on;
    // several with a checkpoint among them are sorted by name, as below.
    if (box && (list.length === 1 || (box.id !== 'ckpt-drop' && !list.some((f) => kindOf(f) === 'checkpoint')))) {
      if (box.id === 'ckpt-drop') {
        chooseCheckpoint(list[0]);
      } else {
        chooseData(list);
      }
      return;
    }
    const ckpts = list.filter((f) => kindOf(f) === 'checkpoint');
    if (ckpts.length) {
      chooseCheckpoint(ckpts[0]);
    }
    const rest = list.filter((f) => kindOf(f) !== 'checkpoint');
    if (rest.length) {
      chooseData(rest);
    }
    if (ckpts.length > 1) {
      // One network at a time: the others are said, not loaded.
      showError(() => t('dropIgnored', { names: ckpts.slice(1).map((f) => f.name).join(', '), name: ckpts[0].name }), 'drop');
    }
  });
}

// folderFiles reads dropped entries, folders walked in full, into the
// files the data box takes (images and a labels .txt), each with its path
// under the drop (an entry's fullPath without its leading /).
async function folderFiles(entries) {
  const files = [];
  const paths = [];
  const walk = async (entry) => {
    if (entry.isFile) {
      if (/\.(png|jpe?g|txt)$/i.test(entry.name)) {
        files.push(await new Promise((resolve, reject) => entry.file(resolve, reject)));
        paths.push(entry.fullPath.replace(/^\//, ''));
      }
      return;
    }
    const reader = entry.createReader();
    for (;;) {
      // readEntries gives a folder's entries a batch at a time, then none.
      const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
      if (batch.length === 0) {
        break;
      }
      for (const e of batch) {
        await walk(e);
      }
    }
  };
  for (const e of entries) {
    await walk(e);
  }
  return { files, paths };
}

function endDrag() {
  $('#drop-overlay').hidden = true;
  for (const box of document.querySelectorAll('.drop')) {
    box.classList.remove('over');
  }
}

// ---- Running ----

// split: during a run, images done and to do per worker.
let split = null;

function onProgress(i, image, images, layer, phase) {
  if (state.spreading && !state.running) {
    spreadProgress(i, image, images, layer, phase);
    return;
  }
  if (!state.running || !split || i >= split.done.length) {
    return;
  }
  split.done[i] = image;
  split.totals[i] = images;
  const done = sum(split.done);
  const total = sum(split.totals);
  const bar = $('#progress');
  bar.hidden = false;
  bar.max = total;
  bar.value = Math.min(total, done + (phase === 'backward' ? 0.5 : 0));
  setState('running', 'progress', { image: Math.min(done + 1, total), images: total, layer, phase });
}

// runAll runs the settings' images on the files given, on as many workers
// as there are cores, every one of them first brought to hold those files
// (or the run does not start), and answers as one run's reply would. Each
// worker takes its share of the chosen images (settings part and parts).
async function runAll(settings, held) {
  const t0 = performance.now();
  const parts = Math.min(pool.size, settings.indices ? Infinity : settings.n);
  try {
    await Promise.all(Array.from({ length: parts }, (_, i) => pool.ensure(i, held)));
  } catch (err) {
    if (err instanceof Cancelled) {
      throw err;
    }
    throw new Error(t('notStartedWorkers', { message: engineError(err.message) }));
  }
  const ids = { ckpt_id: held.ckpt.id, data_id: held.data.id };
  // Until a worker says how many images it has, its share of n.
  split = { done: new Array(parts).fill(0), totals: new Array(parts).fill(Math.ceil(settings.n / parts)) };
  try {
    const replies = await Promise.all(Array.from({ length: parts }, (_, part) =>
      pool.engine(part).call('run', JSON.stringify(Object.assign({}, settings, ids, parts > 1 ? { part, parts } : {}, { pixels: MAX_THUMBS, spread: 0 })))));
    for (const r of replies) {
      if (!r.held || r.held.ckpt !== held.ckpt.id || r.held.data !== held.data.id) {
        throw new Error(t('notStartedWorkers', { message: 'a worker answered for other files' }));
      }
    }
    const outs = replies.filter((o) => o.result); // a share of no images has none
    const result = outs.length > 1 ? await pool.engine(0).call('merge', JSON.stringify(outs.map((o) => o.result))) : outs[0].result;
    return Object.assign({}, outs[0], {
      result,
      pred: [].concat(...outs.map((o) => o.pred)),
      labels: [].concat(...outs.map((o) => o.labels)),
      indices: [].concat(...outs.map((o) => o.indices)),
      names: outs[0].names ? [].concat(...outs.map((o) => o.names)) : null,
      unlabelled: outs.reduce((a, o) => a + o.unlabelled, 0),
      pixels: btoa(outs.map((o) => atob(o.pixels)).join('')),
      seconds: (performance.now() - t0) / 1000,
      workers: outs.length,
      parts, // the sign check splits its images as this run did
    });
  } finally {
    split = null;
  }
}

// clickRun queues a run of the form's settings after the loads asked
// before it; when one of those was refused, the run does not start.
function clickRun() {
  if (state.running || state.runQueued) {
    return;
  }
  let settings;
  try {
    settings = settingsForm.read();
  } catch (err) {
    showError(err.message, 'settings');
    setState('error', 'stateError');
    api.runs++;
    return;
  }
  const before = loadsSinceRun.filter((m) => !m.done);
  loadsSinceRun = [];
  state.runQueued = true;
  updateControls();
  return enqueue(async () => {
    state.runQueued = false;
    const refused = before.filter((m) => !m.ok);
    if (refused.length) {
      // Named here: the refusal's own line may have given way to a later load's.
      showError(() => t('runNotStartedFile', { name: refused.map((m) => m.name).join(', ') }), 'run');
      setState('error', 'runNotStarted');
      api.runs++;
      return;
    }
    await run(settings);
  });
}

async function run(settings) {
  // A run on the files shown: what was said before it is over.
  clearError();
  const seq = ++runSeq;
  const held = files();
  state.running = true;
  updateControls();
  // A new run ends the teaching views' work and the sign check still going.
  stopSpread();
  curve.stop();
  pool.stopTeaching();
  teach.cancel();
  setState('running', 'progressStart');
  const bar = $('#progress');
  bar.removeAttribute('value'); // indeterminate until the first progress
  bar.hidden = false;
  try {
    const [out] = await Promise.all([runAll(settings, held), loadECharts()]);
    const first = api.timings.demoRun === undefined;
    if (first) {
      api.timings.demoRun = performance.now();
    }
    // The page's language's chart options first; the other's after the
    // bars are drawn, for a switch.
    const resultJSON = JSON.stringify(out.result);
    const lang = getLang();
    const options = await pool.engine(0).call('charts', resultJSON, lang);
    if (first) {
      api.timings.demoCharts = performance.now();
    }
    if (seq !== runSeq) {
      return;
    }
    const runRec = { ckpt: held.ckpt, data: held.data, settings, output: out, charts: { [lang]: options } };
    setRun(runRec);
    // The thresholds' and gradients' bars first; the other charts, the
    // thumbnails and then the teaching views each after the frame before.
    const bars = ['thresh', 'grad'];
    renderResults(bars);
    otherLanguage(runRec, resultJSON, lang);
    const meta = Object.assign({}, out, { ckpt: held.ckpt.name, data: held.data.name });
    delete meta.pixels;
    api.lastResult = out.result;
    api.lastRun = meta;
    bar.hidden = true;
    setState('done', out.workers > 1 ? 'stateDoneWorkers' : 'stateDone', { seconds: out.seconds.toFixed(1), workers: out.workers });
    await new Promise((resolve) => afterFrame(resolve));
    if (first) {
      api.timings.demoBars = performance.now();
    }
    if (seq !== runSeq) {
      return;
    }
    charts.draw(runRec, CHART_KEYS.filter((key) => !bars.includes(key)));
    table.thumbs(runRec);
    afterFrame(() => {
      if (first) {
        api.timings.demoAll = performance.now();
      }
      if (seq === runSeq) {
        teach.fresh(runRec);
        startSpread(runRec);
        startCurve(runRec);
      }
    });
  } catch (err) {
    if (seq === runSeq && !(err instanceof Cancelled)) {
      showError(() => engineError(err.message), 'run');
      setState('error', 'stateError');
    }
  } finally {
    if (seq === runSeq) {
      state.running = false;
      bar.hidden = true;
      updateControls();
      api.runs++;
    }
  }
}

function cancel() {
  if (!state.running) {
    // After the bars, Cancel ends the sign check and the curve.
    if (stopSpread()) {
      pool.stopSpread();
      setState('done', 'spreadCancelled');
      pool.ensure(0, files()).catch(() => {});
      pool.prepare(files());
    }
    if (document.body.dataset.curve === 'running') {
      curve.stop();
      pool.stopTeaching();
      curveNote = { key: 'curveCancelled' };
      charts.drawCurve(state.lastRun, curveNote);
      pool.prepare(files());
      updateControls();
    }
    return;
  }
  runSeq++;
  pool.restart();
  state.running = false;
  split = null;
  $('#progress').hidden = true;
  updateControls();
  setState('cancelled', 'stateCancelled');
  // The workers take the files again while the user decides.
  pool.ensure(0, files()).catch(() => {});
  pool.prepare(files());
}

// ---- The sign check (spread.js): a run's spread phase, after its bars ----

let spreadToken = 0; // a sign check's answer counts only while this is its number

// startSpread runs the sign check of runRec, when its settings ask for one,
// on the workers its bars came from; its result replaces the bars' (the
// same numbers, with each layer's range and sign_stable) and the charts
// and table are drawn again.
function startSpread(runRec) {
  const K = runRec.settings.spread;
  // Not when something came after the run's bars: a run, a load (done,
  // going on or waiting), an error.
  if (!(K > 0) || state.lastRun !== runRec || state.running || state.queued > 0 || document.body.dataset.state !== 'done' ||
    state.ckpt !== runRec.ckpt || state.data !== runRec.data) {
    return;
  }
  const token = ++spreadToken;
  state.spreading = true;
  document.body.dataset.spread = 'running';
  updateControls();
  const bar = $('#progress');
  bar.removeAttribute('value');
  bar.hidden = false;
  setState('done', 'spreadProgress', { k: 0, K });
  const live = () => token === spreadToken && state.lastRun === runRec;
  const end = (how, key, args) => {
    if (token !== spreadToken) {
      return;
    }
    spreadToken++;
    state.spreading = false;
    document.body.dataset.spread = how;
    bar.hidden = true;
    updateControls();
    setState('done', key, args);
    api.spreads++;
  };
  spread.run(pool, runRec, runRec.output.parts || pool.size).then(async (got) => {
    if (!got || !live()) {
      return;
    }
    if (got.mismatch) {
      end('mismatch', 'spreadMismatch', { what: got.mismatch });
      return;
    }
    const result = got.result;
    const resultJSON = JSON.stringify(result);
    const lang = getLang();
    const options = await pool.engine(0).call('charts', resultJSON, lang);
    if (!live()) {
      return;
    }
    runRec.output = Object.assign({}, runRec.output, { result, spread_seconds: got.seconds });
    runRec.charts = { [lang]: options };
    api.lastResult = result;
    api.lastRun = Object.assign({}, api.lastRun, { result, spread_seconds: got.seconds });
    charts.draw(runRec);
    table.table(runRec);
    otherLanguage(runRec, resultJSON, lang);
    const out = runRec.output;
    end('done', 'spreadDone', { seconds: out.seconds.toFixed(1), workers: out.workers, runs: result.spread_runs, spread: got.seconds.toFixed(1) });
  }).catch((err) => {
    if (live() && !(err instanceof Cancelled)) {
      end('error', 'spreadFailed', { message: engineError(err.message) });
    }
  });
}

function spreadProgress(i, image, images, layer, phase) {
  const p = spread.progress(i, image, images, layer, phase);
  if (!p) {
    return;
  }
  const bar = $('#progress');
  bar.hidden = false;
  bar.max = p.total;
  bar.value = Math.min(p.total, p.done);
  setState('done', 'spreadProgress', { k: p.k, K: p.K });
}

// stopSpread ends the sign check going on, if any (its workers are
// restarted by the pool's stopTeaching or stopSpread, which the caller
// calls next), and reports whether there was one.
function stopSpread() {
  if (!state.spreading) {
    return false;
  }
  spread.stop();
  spreadToken++;
  state.spreading = false;
  document.body.dataset.spread = 'cancelled';
  $('#progress').hidden = true;
  updateControls();
  api.spreads++;
  return true;
}

// ---- The conversion curve (curve.js, charts.drawCurve): after a run ----

let curveNote = null; // what the curve's box says while it has no curve

function startCurve(runRec) {
  const live = () => state.lastRun === runRec;
  curveNote = curve.tmax() ? { key: 'curveRunning', args: { tmax: curve.tmax() } } : { key: 'curveOff' };
  if (!curve.tmax()) {
    runRec.curve = null;
  }
  charts.drawCurve(runRec, curveNote);
  const ran = curve.run(pool, runRec, live);
  updateControls(); // Cancel ends the curve too
  ran.then((got) => {
    if (got && live()) {
      runRec.curve = got.curve;
      curveNote = { key: 'curveDone', args: { seconds: got.seconds.toFixed(1), workers: got.workers } };
      charts.drawCurve(runRec, curveNote);
      api.lastCurve = got;
    }
  }, (err) => {
    if (live()) {
      curveNote = { key: 'curveFailed', args: { message: engineError(err.message) } };
      charts.drawCurve(runRec, curveNote);
    }
  }).finally(() => {
    api.curves++;
    updateControls();
  });
}

// otherLanguage asks worker 0 for runRec's chart options in the language
// the page does not show, drawn when the page switches to it.
function otherLanguage(runRec, resultJSON, lang) {
  const other = lang === 'en' ? 'zh' : 'en';
  pool.engine(0).call('charts', resultJSON, other).then((o) => {
    runRec.charts[other] = o;
    if (state.lastRun === runRec && getLang() === other) {
      charts.draw(runRec);
    }
  }, () => {});
}

// ---- Results ----

// renderResults draws the last run's results; first, when given, names the
// charts to draw now (a new run's bars show a frame sooner), the others and
// the thumbnails coming after.
function renderResults(first = null) {
  const run = state.lastRun;
  const result = run.output.result;
  $('#results').hidden = false;
  table.summary(run);
  const withPaths = charts.hasPaths(result);
  $('#paths-box').hidden = !withPaths;
  $('#ann-note').hidden = result.T > 0;
  $('.live-note').hidden = result.T === 0;
  for (const box of document.querySelectorAll('#path-controls input')) {
    box.checked = charts.paths[box.dataset.path];
  }
  charts.draw(run, first);
  charts.drawCurve(run, curveNote);
  table.table(run);
  if (!first) {
    table.thumbs(run);
  }
  renderStale();
}

// pathsChanged redraws what depends on the ticked paths.
function pathsChanged(redrawPaths) {
  for (const box of document.querySelectorAll('#path-controls input')) {
    box.checked = charts.paths[box.dataset.path];
  }
  const run = state.lastRun;
  if (!run) {
    return;
  }
  charts.draw(run, redrawPaths ? ['grad', 'paths'] : ['grad']);
  table.table(run);
}

function bindPaths() {
  for (const box of document.querySelectorAll('#path-controls input')) {
    box.addEventListener('change', () => {
      charts.paths[box.dataset.path] = box.checked;
      pathsChanged(true);
    });
  }
  $('#paths-all').addEventListener('click', () => {
    for (const p of Object.keys(charts.paths)) {
      charts.paths[p] = true;
    }
    pathsChanged(true);
  });
  $('#paths-crossing').addEventListener('click', () => {
    for (const p of Object.keys(charts.paths)) {
      charts.paths[p] = p === 'crossing';
    }
    pathsChanged(true);
  });
  charts.onLegendChange(() => pathsChanged(false));
}

// ---- Words ----

function applyLang() {
  document.documentElement.lang = getLang() === 'zh' ? 'zh-CN' : 'en';
  for (const el of document.querySelectorAll('[data-i18n]')) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const el of document.querySelectorAll('[data-i18n-title]')) {
    el.title = t(el.dataset.i18nTitle);
  }
  $('#lang').dataset.lang = getLang();
  if (errorText) {
    $('#error').textContent = errorText();
  }
  renderStatus();
  renderFiles();
  updateControls();
  if (state.lastRun) {
    renderResults();
    teach.redraw();
  }
}

// loadECharts loads ECharts when the first run starts, so that the page's
// thread reads it while the workers compute, not while they start; the
// first drawing waits for it.
let echartsLoaded = null;
function loadECharts() {
  if (!echartsLoaded) {
    echartsLoaded = new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = 'echarts.min.js';
      script.onload = resolve;
      script.onerror = () => reject(new Error('echarts.min.js did not load'));
      document.head.appendChild(script);
    });
  }
  return echartsLoaded;
}

// ---- Start ----

async function start() {
  pool = new Pool(onProgress);
  teach.init({
    // A teaching call on worker 0, for the run it explains: the engine
    // refuses it when it holds other files.
    call: (op, run, extra) =>
      pool.teach({ ckpt: run.ckpt, data: run.data }, op, JSON.stringify(Object.assign({}, run.settings, { ckpt_id: run.ckpt.id, data_id: run.data.id }, extra))),
    lastRun: () => state.lastRun,
  });
  applyLang();
  bindFiles();
  bindPaths();
  charts.bindControls(() => state.lastRun && pathsChanged(true), () => state.lastRun);
  // A new T_max: the shown run's curve again (after what the workers do).
  $('#curve-tmax').addEventListener('change', () => {
    if (state.lastRun && !state.running) {
      curve.stop();
      startCurve(state.lastRun);
    }
  });
  table.bindExports(() => state.lastRun);
  settingsForm.bind(() => {
    clearError(['settings', 'run']);
    renderStale();
  });
  onChange(() => {
    renderFiles();
    renderStale();
  });
  onLang(applyLang);
  $('#lang').addEventListener('click', () => setLang(getLang() === 'en' ? 'zh' : 'en'));
  $('#settings').addEventListener('submit', (event) => {
    event.preventDefault();
    clickRun();
  });
  $('#cancel').addEventListener('click', cancel);
  window.addEventListener('resize', () => charts.resize());

  setState('starting', 'stateStarting');
  const demoLoad = enqueue(async () => {
    const demo = await pool.load('loadDemo');
    state.ckpt = { id: 'demo', demo: true, name: demo.ckpt, size: 0, info: demo };
    state.data = { id: 'demo', demo: true, name: demo.data, size: demo.bytes, info: demo };
    showDescription(demo);
    changed();
    api.timings.engineReady = performance.now();
    // The other workers load the demo while the first is ready, so that
    // the demo's run splits at once.
    pool.prepare(files());
  });
  try {
    await demoLoad;
  } catch (err) {
    showError(() => engineError(err.message), 'file');
    setState('error', 'stateError');
    return;
  }
  await clickRun();
}

start();
