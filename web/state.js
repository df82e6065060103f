// state.js: the one owner of the page's state. The files the user chose
// (the checkpoint and the data, each {id, demo, name, size, info, ...}: what
// the engine read it as), the last run's inputs and output, and whether the
// results shown are stale: of other files or settings than the page now
// shows. Every other module reads the state here and changes it through
// these functions, which tell the listeners.
import * as settings from './settings.js';

export const state = {
  ckpt: null, // the checkpoint the page shows and runs: the demo's until one is chosen
  data: null, // the data file(s), likewise
  waiting: null, // a data file refused for the network held, tried again with the next checkpoint
  lastRun: null, // {ckpt, data, settings, output, charts: {en, zh}}: what the results show
  queued: 0, // loads and runs waiting their turn
  running: false, // a run is going on
  runQueued: false, // a run waits for the loads before it
  spreading: false, // the last run's sign check (its spread runs) goes on after its bars
  lastCheckpointBytes: null, // the last checkpoint chosen, refused or not: a description may still build it
};

const listeners = [];
let nextId = 1;

// newId names a file the page holds; the engines report and check it.
export function newId(kind) {
  return `${kind}#${nextId++}`;
}

export function onChange(f) {
  listeners.push(f);
}

export function changed() {
  for (const f of listeners) {
    f(state);
  }
}

export function setCheckpoint(ckpt) {
  state.ckpt = ckpt;
  changed();
}

export function setData(data) {
  state.data = data;
  changed();
}

export function setRun(run) {
  state.lastRun = run;
  changed();
}

// files is what a run or a worker needs: the checkpoint and data shown.
export function files() {
  return { ckpt: state.ckpt, data: state.data };
}

// staleness says why the results shown are not of what the page shows now:
// null when they are, else the keys of the words that say what changed.
export function staleness() {
  const run = state.lastRun;
  if (!run) {
    return null;
  }
  const why = [];
  if (run.ckpt.id !== state.ckpt.id) {
    why.push('staleCkpt');
  }
  if (run.data.id !== state.data.id) {
    why.push('staleData');
  }
  if (settings.key(run.settings) !== settings.key(settings.current())) {
    why.push('staleSettings');
  }
  return why.length ? why : null;
}
