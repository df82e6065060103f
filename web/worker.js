// worker.js: runs the Go engine (spikegrad.wasm) off the page's thread, so the
// page never freezes while it computes. make site puts Go's wasm_exec.js (the
// Go class) in front of this file: a worker's every request costs it time at
// start, while the engine is already compiled and waiting for it.
//
// The page sends the compiled module first, as {module}, then {id, op, args}
// with op one of the engine's functions (loadDemo, loadCheckpoint, loadBatch,
// run, charts, merge, and the teaching views' forward, detail,
// finiteDiff, descend, lineSearch, which answer Promises as run does). The worker answers
// {id, json} with the engine's JSON string, which is {"error": "..."} when the
// call failed, and sends {progress: [image, images, layer, phase]} while a run
// goes on. The page handles one call at a time and cancels a run by ending
// this worker and starting a new one.
'use strict';

const OPS = ['loadDemo', 'loadCheckpoint', 'loadBatch', 'run', 'charts', 'merge', 'forward', 'detail', 'finiteDiff', 'descend', 'lineSearch', 'curve'];

// The engine, once the wasm module runs: the page sends the module it
// compiled (web/boot.js) as {module} before any call. main() sets
// globalThis.spikegrad and then waits for calls, so go.run's promise never
// resolves and is not awaited.
let gotModule;
const module = new Promise((resolve) => {
  gotModule = resolve;
});
const engine = (async () => {
  const go = new Go();
  // The Go program ends only when it crashes: tell the page, which restarts us.
  go.exit = (code) => self.postMessage({ exited: code });
  const instance = await WebAssembly.instantiate(await module, go.importObject);
  go.run(instance);
  if (!globalThis.spikegrad) {
    throw new Error('spikegrad.wasm did not start');
  }
  return globalThis.spikegrad;
})();
// Each call reports a failure to start; this only keeps it from being logged
// as unhandled before the first call.
engine.catch(() => {});

function errorJSON(message) {
  return JSON.stringify({ error: String(message).split('\n')[0] });
}

function progress(image, images, layer, phase) {
  self.postMessage({ progress: [image, images, layer, phase] });
}

self.onmessage = async (event) => {
  if (event.data.module) {
    gotModule(event.data.module);
    return;
  }
  const { id, op, args } = event.data;
  let json;
  try {
    if (!OPS.includes(op)) {
      throw new Error('unknown call ' + op);
    }
    const api = await engine;
    if (op === 'run') {
      json = await api.run(args[0], progress);
    } else {
      json = await api[op](...args);
    }
  } catch (err) {
    json = errorJSON(err && err.message ? err.message : err);
  }
  self.postMessage({ id, json });
};
