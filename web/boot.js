// boot.js: starts compiling the engine (spikegrad.wasm) the moment the page
// starts loading, while the browser is still busy with ECharts and the
// page's own scripts. Every worker (web/worker.js) instantiates this one
// compiled module: the 9 MB are fetched and compiled once, not once per
// worker, and code the browser optimises for one worker serves them all.
'use strict';

window.spikegradModule = fetch('spikegrad.wasm').then(async (response) => {
  if (!response.ok) {
    throw new Error('spikegrad.wasm: HTTP ' + response.status);
  }
  if ((response.headers.get('Content-Type') || '').startsWith('application/wasm')) {
    return WebAssembly.compileStreaming(response);
  }
  // A server that does not know .wasm: compile from the bytes.
  return WebAssembly.compile(await response.arrayBuffer());
});
// The engine reports a failure when it is first used.
window.spikegradModule.catch(() => {});
