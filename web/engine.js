// engine.js: the engine's workers. An Engine is one Web Worker running
// spikegrad.wasm (web/worker.js), called one call at a time; the Pool is
// every worker the page runs on (one per core, up to MAX_WORKERS), knows
// which of the page's files each holds (by the ids the page gave them, which
// the engine reports back and checks at each run), and brings a worker to
// hold given files before a run.
import { MAX_WORKERS } from './util.js';

export class Cancelled extends Error {}

// The calls of the teaching views: a run cancels them.
const TEACHING = new Set(['forward', 'detail', 'finiteDiff', 'descend', 'lineSearch', 'curve']);

// Engine talks to one worker: one call at a time, in order. restart() ends
// the worker (and whatever it computes) and starts a new, empty one.
export class Engine {
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
    this.teaching = 0; // teaching calls queued or running
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
    const teaching = TEACHING.has(op);
    if (teaching) {
      this.teaching++;
    }
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
    const settle = () => {
      if (teaching && generation === this.generation) {
        this.teaching--;
      }
    };
    answer.then(settle, settle);
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
    this.restart(new Error('the engine stopped (' + message + '); it has been restarted'));
    this.onCrash();
  }
}

export function workerCount() {
  return Math.max(1, Math.min(navigator.hardwareConcurrency || 1, MAX_WORKERS));
}

// A file as the page holds it: {id, demo, name, ...}. A checkpoint has
// bytes and maybe a description; a data file names and files (Files, read by
// the engine in slices at each decode, shared by every worker).

// Pool is the page's workers. Worker 0 takes every file first (its answer is
// the page's); the others are brought to the same files before a run, or
// as soon as the page has them (prepare).
export class Pool {
  constructor(onProgress) {
    this.onProgress = onProgress;
    this.slots = [];
    this.grow(workerCount());
  }

  grow(count) {
    while (this.slots.length < count) {
      const i = this.slots.length;
      const slot = { i, held: { ckpt: null, data: null }, chain: Promise.resolve(), gen: 0, teaching: 0, spread: 0 };
      slot.engine = new Engine((...p) => this.onProgress(i, ...p), () => this.forget(slot));
      this.slots.push(slot);
    }
  }

  get size() {
    return this.slots.length;
  }

  engine(i = 0) {
    return this.slots[i].engine;
  }

  forget(slot) {
    slot.held = { ckpt: null, data: null };
    slot.chain = Promise.resolve();
    slot.gen++; // teaching work queued before is dropped
    slot.teaching = 0;
    slot.spread = 0;
  }

  // note records what an engine says it holds after a load.
  note(slot, reply) {
    if (reply && reply.held) {
      slot.held = { ckpt: reply.held.ckpt, data: reply.held.data };
    }
    return reply;
  }

  // ensure resolves when worker i holds the checkpoint and data files
  // given, loading what it lacks; one worker's loads go one after another.
  ensure(i, files) {
    const slot = this.slots[i];
    const step = slot.chain.then(() => this.bring(slot, files));
    slot.chain = step.catch(() => {});
    return step;
  }

  async bring(slot, { ckpt, data }) {
    const eng = slot.engine;
    const h = () => slot.held;
    if (h().ckpt === ckpt.id && h().data === data.id) {
      return;
    }
    if ((ckpt.demo && h().ckpt !== ckpt.id) || (data.demo && h().data !== data.id)) {
      this.note(slot, await eng.call('loadDemo'));
    }
    if (h().ckpt !== ckpt.id) {
      this.note(slot, await eng.call('loadCheckpoint', ckpt.name, ckpt.bytes, ckpt.description || '', ckpt.id));
    }
    if (h().data !== data.id) {
      this.note(slot, await eng.call('loadBatch', data.names, data.files, data.id));
    }
  }

  // load gives worker 0 one new file after the files it holds (as ensure
  // brought it to): the engine refuses it, changing nothing, or takes it.
  load(op, ...args) {
    const slot = this.slots[0];
    const step = slot.chain.then(async () => this.note(slot, await slot.engine.call(op, ...args)));
    slot.chain = step.catch(() => {});
    return step;
  }

  // teach makes a teaching view's call op on worker 0 for the files of the
  // run it explains, after what the worker does now; a run or a load that
  // comes while it waits or computes ends it (stopTeaching).
  teach(files, op, ...args) {
    const slot = this.slots[0];
    const gen = slot.gen;
    slot.teaching++;
    const step = slot.chain.then(async () => {
      if (gen !== slot.gen) {
        throw new Cancelled('cancelled');
      }
      await this.bring(slot, files);
      return slot.engine.call(op, ...args);
    });
    const done = () => {
      if (gen === slot.gen) {
        slot.teaching--;
      }
    };
    step.then(done, done);
    slot.chain = step.catch(() => {});
    return step;
  }

  // spread makes a run call of the sign check's second phase (main.js) on
  // worker i for files, after what the worker does now; like the teaching
  // views' calls, a run or a load that comes while it waits or computes
  // ends it (stopTeaching), and so does stopSpread.
  spread(i, files, ...args) {
    const slot = this.slots[i];
    const gen = slot.gen;
    slot.spread++;
    const step = slot.chain.then(async () => {
      if (gen !== slot.gen) {
        throw new Cancelled('cancelled');
      }
      await this.bring(slot, files);
      if (gen !== slot.gen) {
        throw new Cancelled('cancelled');
      }
      return slot.engine.call('run', ...args);
    });
    const done = () => {
      if (gen === slot.gen) {
        slot.spread--;
      }
    };
    step.then(done, done);
    slot.chain = step.catch(() => {});
    return step;
  }

  // stopSpread ends the sign check's calls still going or waiting: their
  // workers are restarted.
  stopSpread() {
    for (const slot of this.slots) {
      if (slot.spread > 0) {
        slot.engine.restart();
        this.forget(slot);
      }
    }
  }

  // prepare has the other workers load the files now, while the user goes
  // on choosing, rather than at the next run's click (full VGG16's
  // checkpoint takes a worker about a second). A failure shows at the run.
  prepare(files) {
    for (let i = 1; i < this.slots.length; i++) {
      this.ensure(i, files).catch(() => {});
    }
  }

  // stopTeaching ends the teaching views' work still going: the worker
  // doing it is restarted (and given its files again when next needed).
  stopTeaching() {
    let stopped = false;
    for (const slot of this.slots) {
      if (slot.teaching > 0 || slot.engine.teaching > 0 || slot.spread > 0) {
        slot.engine.restart();
        this.forget(slot);
        stopped = true;
      }
    }
    return stopped;
  }

  // restart ends every worker's work (a cancelled run).
  restart() {
    for (const slot of this.slots) {
      slot.engine.restart();
      this.forget(slot);
    }
  }
}
