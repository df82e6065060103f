// table.js: the numbers of a run as the page shows and exports them: the
// summary (which names the files the run was on), the table, its CSV and
// JSON, the charts' PNGs and the images' thumbnails.
import { $, PATHS, PATH_KEYS, MAX_THUMBS, fmt, mean, sum } from './util.js';
import { t, formatName } from './words.js';
import { hasPaths, allPathsCounted, countedGrad, paths, png } from './charts.js';

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

// rows are the table's numbers, one per IF layer.
function rows(result) {
  const withPaths = hasPaths(result);
  return result.layers.map((l) => {
    const g = countedGrad(l, result);
    return {
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
  if (withPaths) {
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
    if (r.paths) {
      r.paths.forEach((v, k) => {
        cell(fmt(v), 'num' + (paths[PATHS[k]] ? '' : ' unused'), v);
      });
      if (!allPathsCounted()) {
        cell(fmt(r.total), 'num', r.total);
      }
    }
    cell(fmt(r.rate), 'num', r.rate);
  }
}

export function csv(run) {
  if (!run) {
    return '';
  }
  const counted = PATHS.filter((p) => paths[p]);
  const lines = [['layer', 'thresholds', 'threshold_mean', 'grad', 'grad_counted', 'counted_paths', 'descent', 'crossing', 'amplitude', 'reset', 'init', 'firing_rate'].join(',')];
  for (const r of rows(run.output.result)) {
    const p = r.paths || ['', '', '', ''];
    const descent = r.descent === 'descentNone' ? 'none' : r.descent;
    lines.push([r.name, r.count, r.thresh, r.total, r.grad, r.paths ? counted.join('+') : 'all', descent, ...p, r.rate].join(','));
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
    seconds: out.seconds,
    counted_paths: hasPaths(out.result) ? PATHS.filter((p) => paths[p]) : null,
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

function fileStem(run) {
  return 'spikegrad-' + String(run.ckpt.name).replace(/\.[^.]*$/, '').replace(/[^\w.-]+/g, '_');
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
        download(`${fileStem(run)}-${button.dataset.chart}.png`, url);
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
