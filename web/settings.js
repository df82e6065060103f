// settings.js: the run's settings, read from the form and checked the way
// the engine checks them (so that the form refuses what the engine would),
// and the key that tells whether two runs' settings are the same.
import { $ } from './util.js';
import { t } from './words.js';

// The engine's limits (snn.Options.Check): T 0 to 4096, L 1 to 65536, gamma > 0;
// the spread's nudged runs 0 to 64 there, 0 to 16 on the page (each is one
// more run of the batch).
const LIMITS = { T: [0, 4096], L: [1, 65536], spread: [0, 16] };
export const PRECISIONS = ['float32', 'float64'];

// read returns the form's settings, or throws the first problem, in words.
export function read() {
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
  const within = (v, key, [lo, hi]) => {
    if (v < lo || v > hi) {
      throw new Error(t('badRange', { field: t(key), lo, hi }));
    }
    return v;
  };
  const s = {
    n: number('#opt-n', 'optN', true),
    offset: number('#opt-offset', 'optOffset', true),
    T: within(number('#opt-T', 'optT', true), 'optT', LIMITS.T),
    L: within(number('#opt-L', 'optL', true), 'optL', LIMITS.L),
    gamma: number('#opt-gamma', 'optGamma', false),
    norm: $('#opt-norm').value,
    member: $('#opt-member').value.trim(),
    seed: $('#opt-seed').value.trim() === '' ? null : number('#opt-seed', 'optSeed', true),
    indices: $('#opt-indices').value.trim(),
    // The arithmetic (float64: the exact mode) and the sign-robustness
    // readout's nudged-weight runs, which come after the bars (main.js).
    precision: PRECISIONS.includes($('#opt-precision').value) ? $('#opt-precision').value : 'float32',
    spread: within(number('#opt-spread', 'optSpread', true), 'optSpread', LIMITS.spread),
    // ANN mode's activation: the later QCFS code's IF, or the earlier
    // code's MyFloor (the CLI's -quantiser), whose gradient passes further.
    quantiser: $('#opt-quantiser').value === 'myfloor' ? 'myfloor' : 'if',
  };
  if (s.quantiser === 'myfloor' && s.T !== 0) {
    throw new Error(t('badQuantiser'));
  }
  if (s.n < 1) {
    throw new Error(t('badMin', { field: t('optN'), lo: 1 }));
  }
  if (s.offset < 0) {
    throw new Error(t('badMin', { field: t('optOffset'), lo: 0 }));
  }
  if (!(s.gamma > 0)) {
    throw new Error(t('badPositive', { field: t('optGamma') }));
  }
  return s;
}

// key is what makes two runs' settings the same; null when the form does
// not read.
export function key(s) {
  return s ? JSON.stringify([s.n, s.offset, s.T, s.L, s.gamma, s.norm, s.member, s.seed, s.indices, s.precision, s.spread, s.quantiser]) : null;
}

// current is the form's settings, or null while it does not read.
export function current() {
  try {
    return read();
  } catch (err) {
    return null;
  }
}

// bind calls changed whenever a setting changes.
export function bind(changed) {
  $('#opt-T').max = String(LIMITS.T[1]);
  $('#opt-L').max = String(LIMITS.L[1]);
  $('#opt-spread').min = String(LIMITS.spread[0]);
  $('#opt-spread').max = String(LIMITS.spread[1]);
  for (const el of document.querySelectorAll('#settings input, #settings select')) {
    el.addEventListener('input', changed);
    el.addEventListener('change', changed);
  }
}
