// table.js: the numbers of a run as the page shows and exports them: the
// summary (which names the files the run was on), the table, its CSV and
// JSON, the charts' PNGs and the images' thumbnails.
import { $, PATHS, PATH_KEYS, MAX_THUMBS, fmt, mean, sum } from './util.js';
import { t, formatName } from './words.js';
import { hasPaths, allPathsCounted, countedGrad, paths, png, compareColumn } from './charts.js';

function descentKey(g) {
  return g > 0 ? 'lower' : g < 0 ? 'raise' : 'descentNone';
}

// fileLabel names a file of a run as the page showed it.
export function fileLabel(f) {
  return f.demo ? t('usingDemo', { name: f.name }) : f.name;
}

// summary writes the run's one-line summary and the files it ran on.
export function summary(run) {
  const out = run.output;
  const result = out.result;
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
  $('#summary-files').textContent =
    t('summaryFiles', { ckpt: fileLabel(run.ckpt), data: fileLabel(run.data) }) +
    (out.format ? ` (${formatName(out.format)}${out.member ? ' · ' + out.member : ''})` : '');
  const note = $('#unlabelled-note');
  note.hidden = !out.unlabelled;
  note.textContent = out.unlabelled ? t('unlabelledRun', { k: out.unlabelled, n: result.n }) : '';
  // Fewer images than asked: said, not silent.
  const fewer = $('#fewer-note');
  const s = run.settings;
  const asked = s.indices ? null : s.n;
  fewer.hidden = !(asked && result.n < asked);
  fewer.textContent = fewer.hidden ? '' : t('fewerImages', { asked, n: result.n, images: out.images, data: fileLabel(run.data), offset: s.seed === null ? s.offset : 0 });
}

// spreadOf is a layer's sign check (the spread runs, issue 13): the least
// and greatest of its gradient summed over its thresholds, over the runs,
// and whether every threshold's sign held (what the CLI's table marks);
// null without a spread.
export function spreadOf(l) {
  if (!l.sign_stable || !l.grad_runs) {
    return null;
  }
  const sums = l.grad_runs.map((g) => sum(g));
  return { lo: Math.min(...sums), hi: Math.max(...sums), stable: l.sign_stable.every((v) => v) };
}

// rows are the table's numbers, one per IF layer.
function rows(result) {
  const withPaths = hasPaths(result);
  return result.layers.map((l) => {
    const g = countedGrad(l, result);
    return {
      spread: spreadOf(l),
      near: l.near_threshold || 0,
      name: l.name,
      count: l.thresh.length,
      thresh: mean(l.thresh),
      grad: g,
      descent: descentKey(g),
      total: sum(l.grad),
      paths: withPaths ? PATHS.map((p) => sum(l.grad_paths[p])) : null,
      rate: l.firing_rate,
    };
  });
}

export function table(run) {
  const result = run.output.result;
  const withPaths = hasPaths(result);
  const head = [
    [t('colLayer'), ''],
    [t('colChannels'), t('colChannelsTitle')],
    [t('colThresh'), ''],
    [t('colGrad'), ''],
    [t('colDescent'), ''],
  ];
  // With a sign check, its range beside the gradient.
  const withSpread = result.spread_runs > 0;
  if (withSpread) {
    head.push([t('colSpread'), t('colSpreadTitle')]);
  }
  if (withPaths) {
    for (const p of PATHS) {
      head.push([t(PATH_KEYS[p]), t(PATH_KEYS[p] + 'Title')]);
    }
    if (!allPathsCounted()) {
      head.push([`${t('colGrad')} (${t('colTotal')})`, '']);
    }
  }
  head.push([t('colRate'), '']);
  const cmp = compareColumn(result);
  if (cmp) {
    head.push([cmp.title, cmp.help]);
  }
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
  for (const r of rows(result)) {
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
    if (withSpread && r.spread) {
      // A layer whose sign did not hold is marked, with its range.
      const sp = r.spread;
      row.dataset.layer = r.name;
      row.dataset.unstable = String(!sp.stable);
      row.classList.toggle('unstable', !sp.stable);
      const td = cell(`${fmt(sp.lo)} … ${fmt(sp.hi)}`, 'num spread' + (sp.stable ? '' : ' unstable'), `${sp.lo} … ${sp.hi}`);
      const mark = document.createElement('span');
      mark.className = 'sign-mark';
      if (!sp.stable) {
        mark.style.fontWeight = 'bold';
      }
      mark.textContent = ' · ' + t(sp.stable ? 'signHeld' : 'signNotRobust');
      td.appendChild(mark);
    } else if (withSpread) {
      cell('');
    }
    if (r.paths) {
      r.paths.forEach((v, k) => {
        cell(fmt(v), 'num' + (paths[PATHS[k]] ? '' : ' unused'), v);
      });
      if (!allPathsCounted()) {
        cell(fmt(r.total), 'num', r.total);
      }
    }
    cell(fmt(r.rate), 'num', r.rate);
    if (cmp) {
      // The difference from the last pinned run (charts.js).
      const d = cmp.of(r.name);
      cell(d === null ? '—' : fmt(d), 'num pin-diff', d === null ? '' : d);
    }
  }
  spreadNote(result);
}

// spreadNote says in one line what the sign check's marks mean.
function spreadNote(result) {
  const note = $('#spread-note');
  if (!note) {
    return;
  }
  const runs = result.spread_runs || 0;
  note.hidden = !(runs > 0);
  if (note.hidden) {
    note.textContent = '';
    return;
  }
  const k = result.layers.filter((l) => spreadOf(l) && !spreadOf(l).stable).length;
  const key = k === 0 ? 'spreadNoteStable' : result.precision === 'float64' ? 'spreadNoteUnstableF64' : 'spreadNoteUnstable';
  note.textContent = t(key, { k, n: result.layers.length, runs });
  note.classList.toggle('warn', k > 0);
}

// context is what a run was (issue 15: the exports carry it): the files,
// the settings, the images, the precision and the sign check's runs.
function context(run) {
  const out = run.output;
  const result = out.result;
  const s = run.settings;
  return {
    checkpoint: run.ckpt.name,
    data: run.data.name,
    member: out.member || s.member || '',
    n: result.n,
    T: result.T,
    L: result.L,
    gamma: result.gamma,
    norm: s.norm,
    precision: result.precision || 'float32',
    spread_runs: result.spread_runs || 0,
    seed: s.seed,
    offset: s.offset,
    indices: out.indices || [],
    names: out.names || null,
  };
}

// csvField quotes a CSV field that needs it.
function csvField(v) {
  const text = String(v);
  return /[",\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
}

// csv is the table as CSV after a header block of "# key: value" lines
// (pandas: read_csv(f, comment='#')). grad_min and grad_max are the range of
// the layer's gradient (summed over its thresholds) over the sign check's
// runs, sign_stable whether every threshold's sign held; empty without a
// sign check.
export function csv(run) {
  if (!run) {
    return '';
  }
  const c = context(run);
  const head = [
    'spikegrad',
    `checkpoint: ${c.checkpoint}`,
    `data: ${c.data}${c.member ? ' (' + c.member + ')' : ''}`,
    `T: ${c.T}, L: ${c.L}, gamma: ${c.gamma}, norm: ${c.norm}, n: ${c.n}`,
    `precision: ${c.precision}`,
    `spread_runs: ${c.spread_runs}`,
    `images: ${c.names ? c.names.join(' ') : c.indices.join(' ')}`,
  ];
  const counted = PATHS.filter((p) => paths[p]);
  const lines = head.map((h) => '# ' + h.replace(/\n/g, ' '));
  lines.push(['layer', 'thresholds', 'threshold_mean', 'grad', 'grad_counted', 'counted_paths', 'descent', 'crossing', 'amplitude', 'reset', 'init', 'firing_rate',
    'near_threshold', 'grad_min', 'grad_max', 'sign_stable'].join(','));
  for (const r of rows(run.output.result)) {
    const p = r.paths || ['', '', '', ''];
    const descent = r.descent === 'descentNone' ? 'none' : r.descent;
    const sp = r.spread ? [r.spread.lo, r.spread.hi, r.spread.stable] : ['', '', ''];
    lines.push([csvField(r.name), r.count, r.thresh, r.total, r.grad, r.paths ? counted.join('+') : 'all', descent, ...p, r.rate, r.near, ...sp].join(','));
  }
  return lines.join('\n') + '\n';
}

// fileDoc says which file a run was on, as the file panel did.
function fileDoc(f) {
  const doc = { name: f.name, demo: !!f.demo, bytes: f.size };
  if (f.names && f.names.length > 1) {
    doc.files = f.names;
  }
  if (f.info && f.info.format) {
    doc.format = f.info.format;
  }
  return doc;
}

export function json(run) {
  const out = run.output;
  const doc = {
    ckpt: run.ckpt.name,
    data: run.data.name,
    files: { ckpt: fileDoc(run.ckpt), data: fileDoc(run.data) },
    settings: run.settings,
    precision: out.result.precision || 'float32',
    spread_runs: out.result.spread_runs || 0,
    // Per layer, as the table and CSV show them: near_threshold, and with a
    // sign check the range of the layer's gradient and whether its sign
    // held (result.layers holds them per threshold).
    layers: out.result.layers.map((l) => {
      const sp = spreadOf(l);
      return { name: l.name, near_threshold: l.near_threshold || 0, grad_min: sp ? sp.lo : null, grad_max: sp ? sp.hi : null, sign_stable: sp ? sp.stable : null };
    }),
    indices: out.indices || [],
    seconds: out.seconds,
    counted_paths: hasPaths(out.result) ? PATHS.filter((p) => paths[p]) : null,
    result: out.result,
    labels: out.labels,
    pred: out.pred,
  };
  if (out.names) {
    doc.names = out.names;
  }
  if (out.spread_seconds !== undefined) {
    doc.spread_seconds = out.spread_seconds;
  }
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

// stem is a file's name without its extension (.tar.gz whole), made safe
// for a file name.
function stem(name) {
  return String(name).replace(/(\.tar)?\.[^.]*$/i, '').replace(/[^\w.-]+/g, '_').replace(/^_+|_+$/g, '') || 'data';
}

// fileStem names a run's exports after its checkpoint and data (and the
// archive member read): spikegrad-<checkpoint>-<data>.
export function fileStem(run) {
  const member = run.output.member || (run.settings && run.settings.member) || '';
  return `spikegrad-${stem(run.ckpt.name)}-${stem(run.data.name)}${member ? '-' + stem(member) : ''}`;
}

// caption is the lines a chart's PNG carries under it: the files, the
// settings and the images.
function caption(run) {
  const c = context(run);
  const images = c.names ? c.names : c.indices;
  const list = images.length > 24 ? images.slice(0, 24).join(' ') + ` … (${images.length})` : images.join(' ');
  return [
    `spikegrad · ${c.checkpoint} · ${c.data}${c.member ? ' (' + c.member + ')' : ''}`,
    `T=${c.T} L=${c.L} gamma=${c.gamma} norm=${c.norm} n=${c.n} ${c.precision}${c.spread_runs ? ` · sign check over ${c.spread_runs} runs` : ''}`,
    `images: ${list}`,
  ];
}

// withCaption draws the chart's picture with the caption's lines under it.
function withCaption(url, lines) {
  return new Promise((resolve) => {
    const img = new Image();
    img.onload = () => {
      const scale = Math.max(1, img.width / 1000);
      const size = Math.round(12 * scale);
      const line = Math.round(size * 1.5);
      const canvas = document.createElement('canvas');
      canvas.width = img.width;
      canvas.height = img.height + line * lines.length + Math.round(size * 0.8);
      const ctx = canvas.getContext('2d');
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(img, 0, 0);
      ctx.fillStyle = '#555';
      ctx.font = `${size}px sans-serif`;
      lines.forEach((text, k) => ctx.fillText(text, Math.round(8 * scale), img.height + line * (k + 1) - Math.round(size * 0.3), canvas.width - 16 * scale));
      resolve(canvas.toDataURL('image/png'));
    };
    img.onerror = () => resolve(url);
    img.src = url;
  });
}

// bindExports wires the export buttons to the run lastRun() returns.
export function bindExports(lastRun) {
  $('#export-csv').addEventListener('click', () => {
    const run = lastRun();
    if (run) {
      downloadText(fileStem(run) + '.csv', csv(run), 'text/csv');
    }
  });
  $('#export-json').addEventListener('click', () => {
    const run = lastRun();
    if (run) {
      downloadText(fileStem(run) + '.json', json(run), 'application/json');
    }
  });
  for (const button of document.querySelectorAll('button.png')) {
    button.addEventListener('click', () => {
      const run = lastRun();
      const url = png(button.dataset.chart);
      if (run && url) {
        withCaption(url, caption(run)).then((captioned) => download(`${fileStem(run)}-${button.dataset.chart}.png`, captioned));
      }
    });
  }
}

function className(names, label) {
  return names && names[label] !== undefined ? names[label] : String(label);
}

export function thumbs(run) {
  const out = run.output;
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
