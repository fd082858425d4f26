// The consumer page: what a user's app does with the packages from npm. It runs cpu-wasm on a causal and a local
// pattern, compares with core's float64 reference, and leaves PASS or FAIL in the page and in window.__result.
import { causal, local, referenceAttention } from '@sparse/core';
import { cpuWasm } from '@sparse/cpu-wasm';

const TOLERANCE = 1e-4;

function tensor(shape, seed) {
  const n = shape.reduce((a, b) => a * b, 1);
  return { data: Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed)), shape };
}

async function run() {
  const shape = [1, 2, 64, 16];
  const backend = cpuWasm({ threads: 2 });
  const probe = await backend.probe();
  if (!probe.available) throw new Error(`probe: ${probe.reason}`);
  let maxError = 0;
  for (const pattern of [causal(), local(4, 4)]) {
    const request = { q: tensor(shape, 1), k: tensor(shape, 2), v: tensor(shape, 3), pattern };
    const got = await backend.attention(request);
    const want = referenceAttention(request);
    for (let i = 0; i < want.out.data.length; i++) maxError = Math.max(maxError, Math.abs(got.out.data[i] - want.out.data[i]));
  }
  const info = backend.info();
  await backend.dispose();
  return { pass: maxError <= TOLERANCE, maxError, mode: info.mode, threads: info.threads, device: probe.device };
}

run().then(
  (result) => {
    globalThis.__result = result;
    document.body.textContent = `${result.pass ? 'PASS' : 'FAIL'} ${JSON.stringify(result)}`;
  },
  (e) => {
    globalThis.__result = { pass: false, error: String(e?.stack ?? e) };
    document.body.textContent = `FAIL ${e?.message ?? e}`;
  },
);
