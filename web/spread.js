// spread.js: the sign check's second phase (issue 13). A run's bars come
// from its first phase (main.js); when the settings ask for a spread of K,
// the same workers then run the same images again with settings.spread = K:
// the checkpoint's weights once more and K runs with every weight moved by
// at most one float32 rounding (snn.Options.Spread). The parts are merged as
// the first phase's were, the checkpoint's run is checked against the bars'
// numbers (it must give the same, bit for bit), and the merged result, with
// grad_runs, grad_min, grad_max and sign_stable per layer, replaces the
// first phase's. A run or a load that comes meanwhile ends it (the pool's
// stopTeaching), and so does stop().
import { sum } from './util.js';
import { Cancelled } from './engine.js';

let seq = 0; // a phase's answer counts only while this is its number
let split = null; // during a phase: per worker, images done and to do, and its run k

// stop ends the phase going on, if any: its answer will not count (the
// caller restarts its workers with the pool's stopSpread or stopTeaching).
export function stop() {
  seq++;
  split = null;
}

// progress takes a worker's progress report during a phase, and answers
// what the status line says ({k, K, image, images, done, total}), or null
// when no phase goes on.
export function progress(i, image, images, layer, phase) {
  if (!split || i >= split.done.length) {
    return null;
  }
  split.done[i] = image;
  split.totals[i] = images;
  const m = /^spread (\d+)\/(\d+)/.exec(phase || '');
  split.k[i] = m ? Number(m[1]) : 0;
  const done = sum(split.done);
  const total = sum(split.totals);
  const runs = split.K + 1;
  return {
    k: Math.min(...split.k),
    K: split.K,
    // The images of one run: the engine counts those of every run.
    image: Math.min(Math.floor(done / runs) + 1, Math.round(total / runs)),
    images: Math.round(total / runs),
    done,
    total,
  };
}

// same says how the phase's run of the checkpoint's own weights differs
// from the first phase's result, or '' when it gives the same numbers.
export function same(first, again) {
  if (first.n !== again.n || first.layers.length !== again.layers.length) {
    return `n ${first.n}/${again.n}, layers ${first.layers.length}/${again.layers.length}`;
  }
  if (first.loss !== again.loss) {
    return `loss ${first.loss} against ${again.loss}`;
  }
  for (let j = 0; j < first.layers.length; j++) {
    const a = first.layers[j].grad;
    const b = again.layers[j].grad;
    if (a.length !== b.length || a.some((v, e) => v !== b[e])) {
      return `${first.layers[j].name}: dL/dthresh ${a[0]} against ${b[0]}`;
    }
  }
  return '';
}

// run runs the phase for the run record runRec (main.js: settings, files,
// output) on parts workers, and resolves with {result, seconds} (the merged
// result), {mismatch} when the checkpoint's run differs from the bars', or
// null when stopped. It rejects with the engine's error.
export async function run(pool, runRec, parts) {
  const my = ++seq;
  const K = runRec.settings.spread;
  const held = { ckpt: runRec.ckpt, data: runRec.data };
  const ids = { ckpt_id: held.ckpt.id, data_id: held.data.id };
  const t0 = performance.now();
  split = {
    K,
    done: new Array(parts).fill(0),
    totals: new Array(parts).fill(Math.ceil(runRec.output.result.n / parts) * (K + 1)),
    k: new Array(parts).fill(0),
  };
  try {
    const replies = await Promise.all(Array.from({ length: parts }, (_, part) =>
      pool.spread(part, held, JSON.stringify(Object.assign({}, runRec.settings, ids, parts > 1 ? { part, parts } : {}, { spread: K, pixels: 0 })))));
    if (my !== seq) {
      return null;
    }
    const outs = replies.filter((o) => o.result);
    const result = outs.length > 1 ? await pool.engine(0).call('merge', JSON.stringify(outs.map((o) => o.result))) : outs[0].result;
    if (my !== seq) {
      return null;
    }
    const mismatch = same(runRec.output.result, result);
    if (mismatch) {
      return { mismatch };
    }
    return { result, seconds: (performance.now() - t0) / 1000 };
  } catch (err) {
    if (err instanceof Cancelled || my !== seq) {
      return null;
    }
    throw err;
  } finally {
    if (my === seq) {
      split = null;
    }
  }
}
