// curve.js: the conversion curve (issue 15): after a run (and its sign
// check), one forward-only run of T_max steps on the same images gives the
// accuracy and loss of the time-averaged output at every T <= T_max (the
// engine's curve call, snn.Options.Curve), split across the workers as the
// run was and joined (snn.Merge joins the parts' curves). The workers other
// than worker 0 take it when there are some, so that the teaching views'
// calls on worker 0 do not wait behind it. It is teaching work to the pool
// (engine.js): a run or a load that comes meanwhile ends it.
import { Cancelled } from './engine.js';

export const DEFAULT_TMAX = 64;
let seq = 0; // a curve's answer counts only while this is its number

// tmax is the T_max asked (#curve-tmax; 0: no curve).
export function tmax() {
  const el = document.getElementById('curve-tmax');
  const v = el ? Number(el.value) : DEFAULT_TMAX;
  return Number.isInteger(v) && v > 0 ? Math.min(v, 4096) : 0;
}

// run computes runRec's curve on pool and resolves with it ({curve,
// seconds, workers}), or with null when it was ended or not asked; body
// data-curve says running, done, error or cancelled.
export async function run(pool, runRec, live) {
  const T = tmax();
  if (!T) {
    return null;
  }
  const token = ++seq;
  const s = runRec.settings;
  const held = { ckpt: runRec.ckpt, data: runRec.data };
  const workers = pool.size > 1 ? Array.from({ length: pool.size - 1 }, (_, i) => i + 1) : [0];
  const parts = Math.min(workers.length, s.indices ? Infinity : s.n);
  const use = workers.slice(0, parts);
  let started = Infinity;
  document.body.dataset.curve = 'running';
  try {
    const replies = await Promise.all(use.map(async (w, part) => {
      await pool.ensure(w, held);
      if (token !== seq) {
        throw new Cancelled('cancelled');
      }
      started = Math.min(started, performance.now()); // the time is the curve's, not the wait before it
      const set = Object.assign({}, s, { ckpt_id: held.ckpt.id, data_id: held.data.id, pixels: 0, spread: 0, quantiser: '', curve: T },
        parts > 1 ? { part, parts } : {});
      return pool.engine(w).call('curve', JSON.stringify(set));
    }));
    if (token !== seq || !live()) {
      return null;
    }
    const outs = replies.filter((o) => o.result);
    const result = outs.length > 1 ? await pool.engine(use[0]).call('merge', JSON.stringify(outs.map((o) => o.result))) : outs[0].result;
    if (token !== seq || !live()) {
      return null;
    }
    document.body.dataset.curve = 'done';
    return { curve: result.curve, seconds: (performance.now() - started) / 1000, workers: use.length };
  } catch (err) {
    if (token === seq) {
      document.body.dataset.curve = err instanceof Cancelled ? 'cancelled' : 'error';
    }
    if (err instanceof Cancelled || token !== seq) {
      return null;
    }
    throw err;
  }
}

// stop drops the curve going on (its workers are restarted by the pool).
export function stop() {
  if (document.body.dataset.curve === 'running') {
    document.body.dataset.curve = 'cancelled';
  }
  seq++;
}
