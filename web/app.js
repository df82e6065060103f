// app.js: the page. It keeps the user's files and settings, sends them to the
// engine in web/worker.js, and draws what comes back: the four charts (their
// ECharts options come from the engine's charts()), the table, the images.
//
// For automation: after each run window.spikegrad.lastResult holds the run's
// result object and document.body.dataset.state is "done", or "error" with
// the one-line message in #error. The state is "running" during a run and
// "starting", "loading", "ready" or "cancelled" otherwise. The counters
// window.spikegrad.runs and .loads go up by one when a run or a file load
// ends, however it ends (a run, once all its charts are drawn).
'use strict';

(function () {
  // The four paths, in the engine's order (snn.GradPaths, the series of the
  // paths chart).
  const PATHS = ['crossing', 'amplitude', 'reset', 'init'];
  // The four charts of a run, as the page lays them out (#chart-<key>).
  const CHART_KEYS = ['thresh', 'grad', 'paths', 'rate'];
  const PATH_KEYS = { crossing: 'pathCrossing', amplitude: 'pathAmplitude', reset: 'pathReset', init: 'pathInit' };
  // The colours of snn/chart: positive gradient red, negative blue.
  const POSITIVE = '#d9534f';
  const NEGATIVE = '#337ab7';
  const MAX_THUMBS = 256;
  const CHECKPOINT_NAME = /\.(pth|pt|ckpt|pth\.tar)$/i;
  const LANG_KEY = 'spikegrad.lang';

  const $ = (selector) => document.querySelector(selector);

  // What automation reads.
  const api = {
    lastResult: null, // the last run's result object
    lastRun: null, // the last run's whole reply, without the pixels
    runs: 0, // runs finished, with a result or an error
    loads: 0, // files handed to the engine, loaded or refused
    timings: {}, // ms since navigation start: engineReady, demoRun, demoCharts (options made), demoBars (thresholds and gradients drawn), demoAll (every chart)
    csv: () => tableCSV(),
  };
  window.spikegrad = api;

  const page = {
    lang: pickLang(),
    demo: null, // loadDemo's reply
    checkpoint: null, // {name, bytes, info} chosen by the user; null: the demo's
    batch: null, // the same for the image batch
    output: null, // the last run's reply
    settings: null, // the settings of that run
    charts: null, // {en, zh}: the chart options of that run
    paths: { crossing: true, amplitude: true, reset: true, init: true },
    busy: false, // a file is loading or a run is going on
    running: false,
    status: { key: 'stateStarting', args: {} },
  };

  let engine = null;
  let runSeq = 0; // a run's answer counts only while this is its number
  const charts = {}; // echarts instances by key

  // ---- Words ----

  function pickLang() {
    let saved = null;
    try {
      saved = localStorage.getItem(LANG_KEY);
    } catch (err) {
      // Storage can be off; the default language then.
    }
    if (saved === 'en' || saved === 'zh') {
      return saved;
    }
    return (navigator.language || '').toLowerCase().startsWith('zh') ? 'zh' : 'en';
  }

  // t returns the text of key in the page's language, with {name} filled in.
  function t(key, args) {
    let text = I18N[page.lang][key];
    if (text === undefined) {
      text = I18N.en[key] !== undefined ? I18N.en[key] : key;
    }
    if (args) {
      text = text.replace(/\{(\w+)\}/g, (whole, name) => (name in args ? String(args[name]) : whole));
    }
    return text;
  }

  function setLang(lang) {
    page.lang = lang;
    try {
      localStorage.setItem(LANG_KEY, lang);
    } catch (err) {
      // Not remembered, still switched.
    }
    applyLang();
  }

  function applyLang() {
    document.documentElement.lang = page.lang === 'zh' ? 'zh-CN' : 'en';
    for (const el of document.querySelectorAll('[data-i18n]')) {
      el.textContent = t(el.dataset.i18n);
    }
    for (const el of document.querySelectorAll('[data-i18n-title]')) {
      el.title = t(el.dataset.i18nTitle);
    }
    $('#lang').dataset.lang = page.lang;
    renderStatus();
    renderFiles();
    if (page.output) {
      renderResults();
    }
  }

  // ---- Numbers ----

  function fmt(v) {
    if (v === 0) {
      return '0';
    }
    const a = Math.abs(v);
    if (a < 1e-3 || a >= 1e5) {
      return v.toExponential(3);
    }
    return String(Number(v.toPrecision(4)));
  }

  function fmtAxis(v) {
    if (v === 0) {
      return '0';
    }
    const a = Math.abs(v);
    if (a < 1e-3 || a >= 1e5) {
      return v.toExponential(1);
    }
    return String(Number(v.toPrecision(3)));
  }

  function fmtBytes(n) {
    if (n >= 1 << 20) {
      return (n / (1 << 20)).toFixed(1) + ' MiB';
    }
    if (n >= 1 << 10) {
      return (n / (1 << 10)).toFixed(1) + ' KiB';
    }
    return n + ' B';
  }

  function sum(values) {
    let s = 0;
    for (const v of values) {
      s += v;
    }
    return s;
  }

  function mean(values) {
    return values.length ? sum(values) / values.length : 0;
  }

  function escapeHTML(s) {
    return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  }

  // ---- The engine ----

  class Cancelled extends Error {}

  // Engine talks to the worker: one call at a time, in order. restart() ends
  // the worker (and whatever it computes) and starts a new, empty one.
  class Engine {
    constructor(onProgress, onCrash) {
      this.onProgress = onProgress;
      this.onCrash = onCrash;
      this.generation = 0;
      this.start();
    }

    start() {
      this.generation++;
      this.worker = new Worker('web/worker.js');
      this.answered = false; // whether this worker has answered a call
      this.pending = new Map();
      this.nextId = 1;
      this.queue = Promise.resolve();
      this.worker.onmessage = (event) => this.receive(event.data);
      this.worker.onerror = (event) => {
        event.preventDefault();
        this.crash(event.message || 'worker error');
      };
      // The engine's module, compiled once for all workers (web/boot.js).
      const worker = this.worker;
      window.spikegradModule.then((module) => worker.postMessage({ module }), (err) => {
        if (worker === this.worker) {
          this.crash(err.message);
        }
      });
    }

    receive(msg) {
      if (msg.progress) {
        this.onProgress(...msg.progress);
        return;
      }
      if (msg.exited !== undefined) {
        this.crash('exit code ' + msg.exited);
        return;
      }
      const call = this.pending.get(msg.id);
      if (!call) {
        return;
      }
      this.answered = true;
      this.pending.delete(msg.id);
      let value;
      try {
        value = JSON.parse(msg.json);
      } catch (err) {
        call.reject(new Error('the engine answered something that is not JSON'));
        return;
      }
      if (value && typeof value.error === 'string') {
        call.reject(new Error(value.error));
      } else {
        call.resolve(value);
      }
    }

    // call runs the engine's function op after the calls before it, and
    // resolves with its parsed JSON, or rejects with its one-line error.
    call(op, ...args) {
      if (this.broken) {
        return Promise.reject(this.broken);
      }
      const generation = this.generation;
      const answer = this.queue.then(() => {
        if (generation !== this.generation) {
          throw new Cancelled('cancelled');
        }
        return new Promise((resolve, reject) => {
          const id = this.nextId++;
          this.pending.set(id, { resolve, reject });
          this.worker.postMessage({ id, op, args });
        });
      });
      this.queue = answer.catch(() => {});
      return answer;
    }

    restart(reason) {
      this.worker.terminate();
      const pending = this.pending;
      this.start();
      for (const call of pending.values()) {
        call.reject(reason || new Cancelled('cancelled'));
      }
    }

    // crash handles a worker that died. One that never answered would die
    // again (say, a file of the site is missing): it is not started again,
    // and every call fails with its message.
    crash(message) {
      if (!this.answered) {
        this.worker.terminate();
        this.broken = new Error(message);
        for (const call of this.pending.values()) {
          call.reject(this.broken);
        }
        this.pending.clear();
        return;
      }
      this.restart(new Error(t('engineCrashed', { message })));
      this.onCrash();
    }
  }

  // loadFiles hands to an engine the files the page holds (the demo's for
  // what the user has not chosen) and resolves when it has them all.
  function loadFiles(eng) {
    const calls = [];
    if (!page.checkpoint || !page.batch) {
      calls.push(eng.call('loadDemo'));
    }
    if (page.checkpoint) {
      calls.push(eng.call('loadCheckpoint', page.checkpoint.name, page.checkpoint.bytes, page.checkpoint.description || ''));
    }
    if (page.batch) {
      calls.push(eng.call('loadBatch', page.batch.names, page.batch.files));
    }
    return Promise.all(calls);
  }

  // restoreEngine loads into a new worker what the old one held.
  function restoreEngine() {
    loadFiles(engine).catch((err) => {
      if (!(err instanceof Cancelled)) {
        showError(err.message);
        setState('error', 'stateError');
      }
    });
  }

  // ---- More workers ----

  // A run splits its images across one worker per core, up to MAX_WORKERS:
  // the loss and the gradients are means over images, so the parts' results
  // join into the batch's (snn.Merge, the engine's merge()). engine is the
  // first worker; helpers are the others, each given the page's files when a
  // run first needs them (a copy of the checkpoint per worker: memory for speed).
  const MAX_WORKERS = 8;
  const helpers = []; // {engine, checkpoint, batch}: what each holds
  let split = null; // during a split run: {done, totals}: images done and to do per worker

  function workerCount() {
    return Math.max(1, Math.min(navigator.hardwareConcurrency || 1, MAX_WORKERS));
  }

  // progressOf is worker i's progress handler: a split run's progress is
  // the images done over all its workers.
  function progressOf(i) {
    return (image, images, layer, phase) => {
      if (split) {
        split.done[i] = image;
        split.totals[i] = images;
        onProgress(sum(split.done), sum(split.totals), layer, phase);
      } else if (i === 0) {
        onProgress(image, images, layer, phase);
      }
    };
  }

  // helperReady resolves when helper h holds the page's files, loading them
  // once (a load under way is shared). A helper that holds the page's
  // network already (the checkpoint's, or the demo's) is given only the new
  // batch.
  function helperReady(h) {
    if (h.ready && h.checkpoint === page.checkpoint && h.batch === page.batch) {
      return h.ready;
    }
    const onlyBatch = h.ready && page.batch && h.checkpoint === page.checkpoint;
    const batch = page.batch;
    h.checkpoint = page.checkpoint;
    h.batch = batch;
    const load = onlyBatch ? h.ready.then(() => h.engine.call('loadBatch', batch.names, batch.files)) : loadFiles(h.engine);
    h.ready = load.catch((err) => {
      h.checkpoint = h.batch = h.ready = undefined;
      throw err;
    });
    return h.ready;
  }

  // prepareHelpers has the helpers load the page's files as soon as the
  // first engine took them, while the user goes on choosing, rather than at
  // the next run's click (full VGG16's checkpoint takes a worker about a
  // second). A helper's failure shows at the run.
  function prepareHelpers() {
    for (const h of helpers) {
      helperReady(h).catch(() => {});
    }
  }

  // addHelpers starts helper workers until there are count.
  function addHelpers(count) {
    while (helpers.length < count) {
      const h = { engine: null, checkpoint: undefined, batch: undefined, ready: undefined };
      h.engine = new Engine(progressOf(helpers.length + 1), () => {
        h.checkpoint = h.batch = h.ready = undefined;
      });
      helpers.push(h);
    }
  }

  function restartHelpers() {
    for (const h of helpers) {
      h.engine.restart();
      h.checkpoint = h.batch = h.ready = undefined;
    }
  }

  // runAll runs the settings' images on as many workers as there are cores
  // and answers as one run's reply would. Each worker takes its share of the
  // chosen images (settings part and parts), so a random or listed choice
  // splits as exactly as the first n.
  async function runAll(settings) {
    const t0 = performance.now();
    const parts = Math.min(workerCount(), settings.indices ? Infinity : settings.n);
    // Pixels come back only for the thumbnails shown (the first MAX_THUMBS).
    if (parts < 2) {
      return engine.call('run', JSON.stringify(Object.assign({}, settings, { pixels: MAX_THUMBS })));
    }
    addHelpers(parts - 1);
    const engines = [engine].concat(helpers.slice(0, parts - 1).map((h) => h.engine));
    await Promise.all(helpers.slice(0, parts - 1).map(helperReady));
    // Until a worker says how many images it has, its share of n.
    split = { done: new Array(parts).fill(0), totals: new Array(parts).fill(Math.ceil(settings.n / parts)) };
    try {
      const replies = await Promise.all(engines.map((eng, part) =>
        eng.call('run', JSON.stringify(Object.assign({}, settings, { part, parts, pixels: MAX_THUMBS })))));
      const outs = replies.filter((o) => o.result); // a share of no images has none
      const result = outs.length > 1 ? await engine.call('merge', JSON.stringify(outs.map((o) => o.result))) : outs[0].result;
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
      });
    } finally {
      split = null;
    }
  }

  // ---- State and status line ----

  function setState(state, key, args) {
    document.body.dataset.state = state;
    page.status = { key, args: args || {} };
    renderStatus();
  }

  function renderStatus() {
    const args = Object.assign({}, page.status.args);
    if (args.phase) {
      args.phase = t(args.phase === 'backward' ? 'phaseBackward' : 'phaseForward');
    }
    $('#status-text').textContent = t(page.status.key, args);
  }

  function showError(message) {
    const el = $('#error');
    el.textContent = String(message).split('\n')[0];
    el.hidden = false;
  }

  function clearError() {
    const el = $('#error');
    el.textContent = '';
    el.hidden = true;
  }

  function updateControls() {
    $('#run').disabled = page.busy;
    $('#cancel').disabled = !page.running;
    $('#ckpt-file').disabled = page.busy;
    $('#data-file').disabled = page.busy;
    $('#arch-apply').disabled = page.busy;
    document.body.classList.toggle('busy', page.busy);
  }

  function onProgress(image, images, layer, phase) {
    if (!page.running) {
      return;
    }
    const bar = $('#progress');
    bar.hidden = false;
    bar.max = images;
    bar.value = Math.min(images, image + (phase === 'backward' ? 0.5 : 0));
    setState('running', 'progress', { image: Math.min(image + 1, images), images, layer, phase });
  }

  function onCrash() {
    restoreEngine();
  }

  // ---- Files ----

  function renderFiles() {
    const demo = page.demo;
    const ckpt = page.checkpoint;
    const batch = page.batch;
    const ckptInfo = ckpt ? ckpt.info : demo;
    $('#ckpt-name').textContent = ckpt ? ckpt.name : demo ? t('usingDemo', { name: demo.ckpt }) : '';
    $('#ckpt-info').textContent = ckptInfo
      ? t('ckptInfo', { arch: ckptInfo.arch, classes: ckptInfo.classes, layers: (ckptInfo.layers || []).length })
      : '';
    $('#data-name').textContent = batch ? batch.name : demo ? t('usingDemo', { name: demo.data }) : '';
    $('#data-info').textContent = batch ? dataInfo(batch.info) : demo ? t('demoLoaded', { images: demo.images }) : '';
  }

  // dataInfo says what a data file was read as: size, images, format, and
  // how many images have no label.
  function dataInfo(info) {
    let text = t('dataInfo', { bytes: fmtBytes(info.bytes) });
    if (info.images !== undefined) {
      text = t('dataRead', { bytes: fmtBytes(info.bytes), images: info.images, format: info.format + (info.member ? ' · ' + info.member : '') });
    }
    if (info.unlabelled) {
      text += ' · ' + t('unlabelledNote', { k: info.unlabelled, n: info.images });
    }
    return text;
  }

  // loading runs one file load at a time, saying it on the status line and
  // any refusal in #error.
  async function loading(name, load) {
    if (page.busy) {
      return;
    }
    page.busy = true;
    updateControls();
    clearError();
    setState('loading', 'reading', { name });
    try {
      await load();
      setState('ready', 'stateReady');
      prepareHelpers();
    } catch (err) {
      if (!(err instanceof Cancelled)) {
        showError(err.message);
        setState('error', 'stateError');
      }
    } finally {
      page.busy = false;
      updateControls();
      renderFiles();
      api.loads++;
    }
  }

  // loadBatch hands the data files (one, or several images) to the engine as
  // one batch: the Files themselves, which the engines read in slices (a
  // 170 MB archive is never whole in memory) and every worker shares.
  function loadBatch(fileList) {
    const files = Array.from(fileList);
    if (files.length === 0) {
      return;
    }
    const names = files.map((f) => f.webkitRelativePath || f.name);
    const name = files.length === 1 ? files[0].name : t('nFiles', { n: files.length });
    return loading(name, async () => {
      const info = await engine.call('loadBatch', names, files);
      page.batch = { name, names, files, info };
    });
  }

  // loadCheckpoint reads a checkpoint the user chose and hands it to the engine.
  function loadCheckpoint(file) {
    if (!file) {
      return;
    }
    return loading(file.name, async () => {
      const bytes = new Uint8Array(await file.arrayBuffer());
      // Kept even when refused: a description may still build it.
      page.lastCheckpoint = { name: file.name, bytes };
      const info = await engine.call('loadCheckpoint', file.name, bytes);
      page.checkpoint = { name: file.name, bytes, info };
      showDescription(info);
    });
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
    const text = JSON.stringify(head).replace(/\}$/, ', "modules": [\n') + mods.join(',\n') + '\n]}\n';
    $('#arch-text').value = text;
  }

  // applyDescription builds the last checkpoint chosen with the text area's
  // description.
  async function applyDescription() {
    if (page.busy) {
      return;
    }
    const file = page.lastCheckpoint;
    if (!file) {
      showError(t('archNoCheckpoint'));
      return;
    }
    const description = $('#arch-text').value;
    page.busy = true;
    updateControls();
    clearError();
    setState('loading', 'reading', { name: file.name });
    try {
      const info = await engine.call('loadCheckpoint', file.name, file.bytes, description);
      page.checkpoint = { name: file.name, bytes: file.bytes, info, description };
      setState('ready', 'stateReady');
      prepareHelpers();
    } catch (err) {
      if (!(err instanceof Cancelled)) {
        showError(err.message);
        setState('error', 'stateError');
      }
    } finally {
      page.busy = false;
      updateControls();
      renderFiles();
      api.loads++;
    }
  }

  function kindOf(file) {
    return CHECKPOINT_NAME.test(file.name) ? 'checkpoint' : 'batch';
  }

  function bindFiles() {
    $('#arch-apply').addEventListener('click', applyDescription);
    for (const [input, kind] of [['#ckpt-file', 'checkpoint'], ['#data-file', 'batch']]) {
      const el = $(input);
      el.addEventListener('change', async () => {
        if (kind === 'batch') {
          await loadBatch(el.files);
        } else {
          await loadCheckpoint(el.files[0]);
        }
        el.value = ''; // so that choosing the same file again loads it again
      });
    }

    // A drop on a file box loads that kind; elsewhere the name decides.
    let hideOverlay = 0;
    document.addEventListener('dragover', (event) => {
      if (!event.dataTransfer || !Array.from(event.dataTransfer.types).includes('Files')) {
        return;
      }
      event.preventDefault();
      event.dataTransfer.dropEffect = page.busy ? 'none' : 'copy';
      $('#drop-overlay').hidden = false;
      for (const box of document.querySelectorAll('.drop')) {
        box.classList.toggle('over', box.contains(event.target));
      }
      clearTimeout(hideOverlay);
      hideOverlay = setTimeout(endDrag, 300);
    });
    document.addEventListener('drop', async (event) => {
      if (!event.dataTransfer || event.dataTransfer.files.length === 0) {
        return;
      }
      event.preventDefault();
      endDrag();
      const box = event.target.closest && event.target.closest('.drop');
      const files = Array.from(event.dataTransfer.files);
      if (box) {
        if (box.id === 'ckpt-drop') {
          await loadCheckpoint(files[0]);
        } else {
          await loadBatch(files);
        }
        return;
      }
      const ckpt = files.find((f) => kindOf(f) === 'checkpoint');
      if (ckpt) {
        await loadCheckpoint(ckpt);
      }
      const rest = files.filter((f) => f !== ckpt);
      if (rest.length) {
        await loadBatch(rest);
      }
    });
  }

  function endDrag() {
    $('#drop-overlay').hidden = true;
    for (const box of document.querySelectorAll('.drop')) {
      box.classList.remove('over');
    }
  }

  // ---- Running ----

  function readSettings() {
    const number = (selector, key, integer) => {
      const text = $(selector).value.trim();
      const v = Number(text);
      if (text === '' || !Number.isFinite(v)) {
        throw new Error(t('badNumber', { field: t(key) }));
      }
      if (integer && !Number.isInteger(v)) {
        throw new Error(t('badInteger', { field: t(key) }));
      }
      return v;
    };
    return {
      n: number('#opt-n', 'optN', true),
      offset: number('#opt-offset', 'optOffset', true),
      T: number('#opt-T', 'optT', true),
      L: number('#opt-L', 'optL', true),
      gamma: number('#opt-gamma', 'optGamma', false),
      norm: $('#opt-norm').value,
      member: $('#opt-member').value.trim(),
      seed: $('#opt-seed').value.trim() === '' ? null : number('#opt-seed', 'optSeed', true),
      indices: $('#opt-indices').value.trim(),
    };
  }

  async function run() {
    if (page.busy) {
      return;
    }
    clearError();
    let settings;
    try {
      settings = readSettings();
    } catch (err) {
      showError(err.message);
      setState('error', 'stateError');
      api.runs++;
      return;
    }
    const seq = ++runSeq;
    page.busy = true;
    page.running = true;
    updateControls();
    setState('running', 'progressStart');
    const bar = $('#progress');
    bar.removeAttribute('value'); // indeterminate until the first progress
    bar.hidden = false;
    try {
      const [out] = await Promise.all([runAll(settings), loadECharts()]);
      const first = api.timings.demoRun === undefined;
      if (first) {
        api.timings.demoRun = performance.now();
      }
      // The page's language's chart options first; the other's after the
      // bars are drawn, for a switch.
      const resultJSON = JSON.stringify(out.result);
      const lang = page.lang;
      const options = await engine.call('charts', resultJSON, lang);
      if (first) {
        api.timings.demoCharts = performance.now();
      }
      if (seq !== runSeq) {
        return;
      }
      page.output = out;
      page.settings = settings;
      page.charts = { [lang]: options };
      // The thresholds' and gradients' bars first; the other charts, the
      // thumbnails and then the teaching views each after the frame before.
      const bars = ['thresh', 'grad'];
      renderResults(false, bars);
      const other = lang === 'en' ? 'zh' : 'en';
      engine.call('charts', resultJSON, other).then((o) => {
        if (seq === runSeq) {
          page.charts[other] = o;
          if (page.lang === other) {
            renderCharts();
          }
        }
      }, () => {});
      const meta = Object.assign({}, out);
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
      renderRest(bars);
      afterFrame(() => {
        if (first) {
          api.timings.demoAll = performance.now();
        }
        if (seq === runSeq) {
          teachRender(true);
        }
      });
    } catch (err) {
      if (seq === runSeq && !(err instanceof Cancelled)) {
        showError(err.message);
        setState('error', 'stateError');
      }
    } finally {
      if (seq === runSeq) {
        page.busy = false;
        page.running = false;
        bar.hidden = true;
        updateControls();
        api.runs++;
      }
    }
  }

  function cancel() {
    if (!page.running) {
      return;
    }
    runSeq++;
    engine.restart();
    restoreEngine();
    restartHelpers();
    page.busy = false;
    page.running = false;
    $('#progress').hidden = true;
    updateControls();
    setState('cancelled', 'stateCancelled');
  }

  // ---- Results ----

  function hasPaths(result) {
    return result.T > 0 && result.layers.every((l) => l.grad_paths);
  }

  function allPathsCounted() {
    return PATHS.every((p) => page.paths[p]);
  }

  // countedGrad is a layer's dL/dthresh summed over its thresholds, over the
  // ticked paths only.
  function countedGrad(layer, result) {
    if (!hasPaths(result) || allPathsCounted()) {
      return sum(layer.grad);
    }
    let g = 0;
    for (const p of PATHS) {
      if (page.paths[p]) {
        g += sum(layer.grad_paths[p]);
      }
    }
    return g;
  }

  function descentKey(g) {
    if (g > 0) {
      return 'lower';
    }
    if (g < 0) {
      return 'raise';
    }
    return 'descentNone';
  }

  // renderResults draws the last run's results; the teaching views too
  // unless withTeach is false (a new run draws them later, see run). first,
  // when given, names the charts to draw now, the others coming with the
  // thumbnails in renderRest (a new run's bars show a frame sooner).
  function renderResults(withTeach = true, first = null) {
    const out = page.output;
    const result = out.result;
    $('#results').hidden = false;
    const correct = out.pred.filter((p, i) => p === out.labels[i]).length;
    $('#summary').textContent = t('summary', {
      loss: fmt(result.loss),
      accuracy: (result.accuracy * 100).toFixed(1) + '%',
      correct,
      n: result.n,
      T: result.T,
      L: result.L,
      gamma: result.gamma,
    });
    $('#summary-files').textContent = t('summaryFiles', { ckpt: out.ckpt, data: out.data }) +
      (out.format ? ` (${out.format}${out.member ? ' · ' + out.member : ''})` : '');
    const note = $('#unlabelled-note');
    note.hidden = !out.unlabelled;
    note.textContent = out.unlabelled ? t('unlabelledRun', { k: out.unlabelled, n: result.n }) : '';
    const paths = hasPaths(result);
    $('#paths-box').hidden = !paths;
    $('#ann-note').hidden = result.T > 0;
    for (const box of document.querySelectorAll('#path-controls input')) {
      box.checked = page.paths[box.dataset.path];
    }
    renderCharts(first);
    renderTable();
    if (!first) {
      renderThumbs();
    }
    if (withTeach) {
      teachRender(false);
    }
  }

  function renderRest(first) {
    renderCharts(CHART_KEYS.filter((key) => !first.includes(key)));
    renderThumbs();
  }

  // baseOption copies the engine's options and adds what all four charts
  // share: room for the labels, numbers that fit small gradients, a white
  // background for the PNG.
  function baseOption(option) {
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

  function gradOption(option, result) {
    const o = baseOption(option);
    const values = result.layers.map((l) => countedGrad(l, result));
    const series = o.series[0];
    series.data = values.map((v) => ({ value: v, itemStyle: { color: v < 0 ? NEGATIVE : POSITIVE } }));
    series.label = {
      show: true,
      position: 'top',
      formatter: (p) => (p.value > 0 ? '▼' : p.value < 0 ? '▲' : ''),
      color: '#555',
    };
    o.tooltip = {
      show: true,
      trigger: 'item',
      formatter: (p) => `${escapeHTML(p.name)}<br/>dL/dthresh = ${fmt(p.value)}<br/>${escapeHTML(t(p.value > 0 ? 'descentLowers' : p.value < 0 ? 'descentRaises' : 'descentNone'))}`,
    };
    if (hasPaths(result) && !allPathsCounted()) {
      const names = PATHS.filter((p) => page.paths[p]).map((p) => t(PATH_KEYS[p]));
      o.title.text = t('gradTitleSome', { title: o.title.text, paths: names.length ? names.join(' + ') : t('noPaths') });
    }
    o.title.subtext = `▼ ${t('signLegendPos')}    ▲ ${t('signLegendNeg')}`;
    o.title.subtextStyle = { fontSize: 11, color: '#555' };
    o.grid[0].top = 78;
    return o;
  }

  function pathsOption(option) {
    const o = baseOption(option);
    o.legend = Object.assign({}, o.legend, { top: 32, selected: {} });
    o.series.forEach((s, k) => {
      o.legend.selected[s.name] = page.paths[PATHS[k]];
    });
    return o;
  }

  // afterFrame runs f once the next frame is out.
  function afterFrame(f) {
    requestAnimationFrame(() => setTimeout(f, 0));
  }

  function chart(key) {
    if (!charts[key]) {
      charts[key] = echarts.init($('#chart-' + key));
      if (key === 'paths') {
        // A click on the legend ticks or unticks the path, as the boxes do.
        charts[key].on('legendselectchanged', (event) => {
          const series = chartOptions().paths.series;
          series.forEach((s, k) => {
            page.paths[PATHS[k]] = event.selected[s.name] !== false;
          });
          pathsChanged(false);
        });
      }
    }
    return charts[key];
  }

  // chartOptions are the last run's chart options in the page's language,
  // or, until the engine has sent those, in the language of the run.
  function chartOptions() {
    return page.charts[page.lang] || Object.values(page.charts)[0];
  }

  // renderCharts draws the charts named in keys (all when null).
  function renderCharts(keys = null) {
    const options = chartOptions();
    const result = page.output.result;
    const want = (key) => !keys || keys.includes(key);
    if (want('thresh')) {
      chart('thresh').setOption(named(baseOption(options.thresh), 'colThresh'), true);
    }
    if (want('grad')) {
      chart('grad').setOption(gradOption(options.grad, result), true);
    }
    if (want('paths') && hasPaths(result) && options.paths) {
      chart('paths').setOption(pathsOption(options.paths), true);
    }
    if (want('rate')) {
      chart('rate').setOption(named(baseOption(options.rate), 'colRate'), true);
    }
    // Only a chart whose box changed size (made while hidden, or the window
    // resized) draws again: a resize is a second full draw.
    for (const c of Object.values(charts)) {
      const el = c.getDom();
      if (el.clientWidth !== c.getWidth() || el.clientHeight !== c.getHeight()) {
        c.resize();
      }
    }
  }

  // pathsChanged redraws what depends on the ticked paths.
  function pathsChanged(redrawPaths) {
    for (const box of document.querySelectorAll('#path-controls input')) {
      box.checked = page.paths[box.dataset.path];
    }
    if (!page.output) {
      return;
    }
    const result = page.output.result;
    chart('grad').setOption(gradOption(chartOptions().grad, result), true);
    if (redrawPaths && hasPaths(result)) {
      chart('paths').setOption(pathsOption(chartOptions().paths), true);
    }
    renderTable();
  }

  function bindPaths() {
    for (const box of document.querySelectorAll('#path-controls input')) {
      box.addEventListener('change', () => {
        page.paths[box.dataset.path] = box.checked;
        pathsChanged(true);
      });
    }
    $('#paths-all').addEventListener('click', () => {
      for (const p of PATHS) {
        page.paths[p] = true;
      }
      pathsChanged(true);
    });
    $('#paths-crossing').addEventListener('click', () => {
      for (const p of PATHS) {
        page.paths[p] = p === 'crossing';
      }
      pathsChanged(true);
    });
  }

  // rows are the table's numbers, one per IF layer.
  function rows() {
    const result = page.output.result;
    const paths = hasPaths(result);
    return result.layers.map((l) => {
      const g = countedGrad(l, result);
      return {
        name: l.name,
        count: l.thresh.length,
        thresh: mean(l.thresh),
        grad: g,
        descent: descentKey(g),
        total: sum(l.grad),
        paths: paths ? PATHS.map((p) => sum(l.grad_paths[p])) : null,
        rate: l.firing_rate,
      };
    });
  }

  function renderTable() {
    const result = page.output.result;
    const paths = hasPaths(result);
    const head = [
      [t('colLayer'), ''],
      [t('colChannels'), t('colChannelsTitle')],
      [t('colThresh'), ''],
      [t('colGrad'), ''],
      [t('colDescent'), ''],
    ];
    if (paths) {
      for (const p of PATHS) {
        head.push([t(PATH_KEYS[p]), t(PATH_KEYS[p] + 'Title')]);
      }
      if (!allPathsCounted()) {
        head.push([`${t('colGrad')} (${t('colTotal')})`, '']);
      }
    }
    head.push([t('colRate'), '']);
    const thead = $('#numbers thead');
    thead.textContent = '';
    const tr = thead.insertRow();
    for (const [text, title] of head) {
      const th = document.createElement('th');
      th.textContent = text;
      if (title) {
        th.title = title;
      }
      tr.appendChild(th);
    }
    const tbody = $('#numbers tbody');
    tbody.textContent = '';
    for (const r of rows()) {
      const row = tbody.insertRow();
      const cell = (text, cls, title) => {
        const td = row.insertCell();
        td.textContent = text;
        if (cls) {
          td.className = cls;
        }
        if (title !== undefined) {
          td.title = String(title);
        }
        return td;
      };
      cell(r.name, 'name');
      cell(String(r.count), 'num');
      cell(fmt(r.thresh), 'num', r.thresh);
      cell(fmt(r.grad), 'num ' + (r.grad < 0 ? 'neg' : r.grad > 0 ? 'pos' : ''), r.grad);
      const arrow = r.grad > 0 ? '▼ ' : r.grad < 0 ? '▲ ' : '';
      cell(arrow + t(r.descent), r.grad < 0 ? 'neg' : r.grad > 0 ? 'pos' : '');
      if (r.paths) {
        r.paths.forEach((v, k) => {
          cell(fmt(v), 'num' + (page.paths[PATHS[k]] ? '' : ' unused'), v);
        });
        if (!allPathsCounted()) {
          cell(fmt(r.total), 'num', r.total);
        }
      }
      cell(fmt(r.rate), 'num', r.rate);
    }
  }

  function tableCSV() {
    if (!page.output) {
      return '';
    }
    const counted = PATHS.filter((p) => page.paths[p]);
    const lines = [['layer', 'thresholds', 'threshold_mean', 'grad', 'grad_counted', 'counted_paths', 'descent', 'crossing', 'amplitude', 'reset', 'init', 'firing_rate'].join(',')];
    for (const r of rows()) {
      const p = r.paths || ['', '', '', ''];
      const descent = r.descent === 'descentNone' ? 'none' : r.descent;
      lines.push([r.name, r.count, r.thresh, r.total, r.grad, r.paths ? counted.join('+') : 'all', descent, ...p, r.rate].join(','));
    }
    return lines.join('\n') + '\n';
  }

  function tableJSON() {
    const out = page.output;
    const doc = {
      ckpt: out.ckpt,
      data: out.data,
      settings: page.settings,
      seconds: out.seconds,
      counted_paths: hasPaths(out.result) ? PATHS.filter((p) => page.paths[p]) : null,
      result: out.result,
      labels: out.labels,
      pred: out.pred,
    };
    if (out.classNames) {
      doc.classNames = out.classNames;
    }
    return JSON.stringify(doc, null, 2) + '\n';
  }

  function download(name, href) {
    const a = document.createElement('a');
    a.href = href;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
  }

  function downloadText(name, text, type) {
    const url = URL.createObjectURL(new Blob([text], { type }));
    download(name, url);
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  function fileStem() {
    const out = page.output;
    return 'spikegrad-' + String(out.ckpt).replace(/\.[^.]*$/, '').replace(/[^\w.-]+/g, '_');
  }

  function bindExports() {
    $('#export-csv').addEventListener('click', () => {
      if (page.output) {
        downloadText(fileStem() + '.csv', tableCSV(), 'text/csv');
      }
    });
    $('#export-json').addEventListener('click', () => {
      if (page.output) {
        downloadText(fileStem() + '.json', tableJSON(), 'application/json');
      }
    });
    for (const button of document.querySelectorAll('button.png')) {
      button.addEventListener('click', () => {
        const c = charts[button.dataset.chart];
        if (c) {
          download(`${fileStem()}-${button.dataset.chart}.png`, c.getDataURL({ type: 'png', pixelRatio: 2, backgroundColor: '#fff' }));
        }
      });
    }
  }

  function className(names, label) {
    return names && names[label] !== undefined ? names[label] : String(label);
  }

  function renderThumbs() {
    const out = page.output;
    const box = $('#thumbs');
    box.textContent = '';
    const n = out.labels.length;
    const raw = atob(out.pixels || '');
    $('#thumbs-floats').hidden = !(n && raw.length === 0);
    if (raw.length === 0) {
      $('#thumbs-more').hidden = true;
      return; // normalised floats: no pixels to show
    }
    const size = n ? raw.length / Math.min(n, MAX_THUMBS) : 0; // bytes per image: 3 planes
    const side = Math.round(Math.sqrt(size / 3));
    const plane = side * side;
    const shown = Math.min(n, MAX_THUMBS);
    for (let i = 0; i < shown; i++) {
      const canvas = document.createElement('canvas');
      canvas.width = side;
      canvas.height = side;
      const ctx = canvas.getContext('2d');
      const img = ctx.createImageData(side, side);
      const base = i * size;
      for (let p = 0; p < plane; p++) {
        img.data[4 * p] = raw.charCodeAt(base + p);
        img.data[4 * p + 1] = raw.charCodeAt(base + plane + p);
        img.data[4 * p + 2] = raw.charCodeAt(base + 2 * plane + p);
        img.data[4 * p + 3] = 255;
      }
      ctx.putImageData(img, 0, 0);
      const ok = out.pred[i] === out.labels[i];
      const fig = document.createElement('figure');
      fig.className = 'thumb ' + (out.labels[i] < 0 ? 'unlabelled' : ok ? 'ok' : 'bad');
      const where = out.names ? out.names[i] : '#' + (out.indices ? out.indices[i] : i);
      fig.title = `${where} · ${t(out.labels[i] < 0 ? 'noLabel' : ok ? 'correct' : 'wrong')}`;
      const caption = document.createElement('figcaption');
      const truth = document.createElement('span');
      truth.textContent = out.labels[i] < 0 ? t('noLabel') : t('trueLabel', { label: className(out.classNames, out.labels[i]) });
      const pred = document.createElement('span');
      pred.className = 'pred';
      pred.textContent = t('predLabel', { label: className(out.classNames, out.pred[i]) });
      caption.append(truth, pred);
      fig.append(canvas, caption);
      box.appendChild(fig);
    }
    const more = $('#thumbs-more');
    more.hidden = n <= shown;
    more.textContent = n > shown ? t('imagesMore', { more: n - shown }) : '';
  }

  // ---- The teaching views (web/teach.js) ----

  // What teach.js needs of the page: the engine, the words, the last run.
  window.spikegradPage = {
    call: (op, ...args) => engine.call(op, ...args),
    t,
    fmt,
    fmtAxis,
    escapeHTML,
    output: () => page.output,
    settings: () => page.settings,
    lang: () => page.lang,
    busy: () => page.busy,
  };

  // loadECharts loads ECharts when the first run starts, so that the page's
  // thread reads it while the workers compute, not while they start (the
  // engine was ready 0.25 s later when it loaded with them); the first
  // drawing waits for it.
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

  function teachRender(fresh) {
    document.dispatchEvent(new CustomEvent('spikegrad:render', { detail: { fresh } }));
  }

  // ---- Start ----

  async function start() {
    applyLang();
    bindFiles();
    bindPaths();
    bindExports();
    $('#lang').addEventListener('click', () => setLang(page.lang === 'en' ? 'zh' : 'en'));
    $('#settings').addEventListener('submit', (event) => {
      event.preventDefault();
      run();
    });
    $('#cancel').addEventListener('click', cancel);
    window.addEventListener('resize', () => {
      for (const c of Object.values(charts)) {
        c.resize();
      }
    });

    engine = new Engine(progressOf(0), onCrash);
    // The helpers start and load the demo while the first engine does, so
    // that the demo's run splits at once.
    addHelpers(workerCount() - 1);
    prepareHelpers();
    page.busy = true;
    updateControls();
    setState('starting', 'stateStarting');
    try {
      page.demo = await engine.call('loadDemo');
      showDescription(page.demo);
      api.timings.engineReady = performance.now();
    } catch (err) {
      showError(err.message);
      setState('error', 'stateError');
      return;
    } finally {
      page.busy = false;
      updateControls();
      renderFiles();
    }
    await run();
  }

  start();
})();
