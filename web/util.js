// util.js: the page's constants (defined here once: colours, the paths, the
// limits) and the small helpers every module uses.

// The four paths, in the engine's order (snn.GradPaths, the series of the
// paths chart), and the words that name them.
export const PATHS = ['crossing', 'amplitude', 'reset', 'init'];
export const PATH_KEYS = { crossing: 'pathCrossing', amplitude: 'pathAmplitude', reset: 'pathReset', init: 'pathInit' };
// The four charts of a run, as the page lays them out (#chart-<key>).
export const CHART_KEYS = ['thresh', 'grad', 'paths', 'rate'];
// The colours of snn/chart: positive gradient red, negative blue; and the
// teaching views' others.
export const COLOURS = {
  positive: '#d9534f',
  negative: '#337ab7',
  zero: '#999',
  before: '#bbb',
  label: '#555',
  line: '#333',
  window: 'rgba(255, 193, 7, 0.18)',
};
export const MAX_THUMBS = 256; // thumbnails shown (pixels asked of the engine)
export const MAX_WORKERS = 8; // Web Workers a run splits across, at most
export const MAX_ERROR = 200; // characters of an error line, at most
export const MAX_STEPS = 100; // the engine's limit on gradient steps (snn.Descend)
export const CHECKPOINT_NAME = /\.(pth|pt|ckpt|pth\.tar)$/i;

export const $ = (selector) => document.querySelector(selector);

export function fmt(v) {
  if (v === 0) {
    return '0';
  }
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e5) {
    return v.toExponential(3);
  }
  return String(Number(v.toPrecision(4)));
}

export function fmtAxis(v) {
  if (v === 0) {
    return '0';
  }
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e5) {
    return v.toExponential(1);
  }
  return String(Number(v.toPrecision(3)));
}

export function fmtBytes(n) {
  if (n >= 1 << 20) {
    return (n / (1 << 20)).toFixed(1) + ' MiB';
  }
  if (n >= 1 << 10) {
    return (n / (1 << 10)).toFixed(1) + ' KiB';
  }
  return n + ' B';
}

export function sum(values) {
  let s = 0;
  for (const v of values) {
    s += v;
  }
  return s;
}

export function mean(values) {
  return values.length ? sum(values) / values.length : 0;
}

export function escapeHTML(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

// afterFrame runs f once the next frame is out.
export function afterFrame(f) {
  requestAnimationFrame(() => setTimeout(f, 0));
}

// oneLine is the first line of a message, at most MAX_ERROR characters.
export function oneLine(message) {
  const line = String(message).split('\n')[0].trim();
  return line.length > MAX_ERROR ? line.slice(0, MAX_ERROR - 1) + '…' : line;
}
