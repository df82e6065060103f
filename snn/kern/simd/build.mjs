// Compiles the WebAssembly SIMD kernel (gemm.wat) with wabt from npm:
//   node snn/kern/simd/build.mjs snn/kern/simd/gemm.wat snn/kern/simd/gemm.wasm
// `make simd` writes the committed gemm.wasm; `make wasm-test` checks that it
// is what gemm.wat compiles to.
import fs from 'node:fs';
import wabtInit from 'wabt';

const [src, out] = process.argv.slice(2);
const wabt = await wabtInit();
const mod = wabt.parseWat(src, fs.readFileSync(src, 'utf8'), { simd: true });
mod.validate();
fs.writeFileSync(out, mod.toBinary({}).buffer);
