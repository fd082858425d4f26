// The consumer page: what a user's app does with the packages from npm. Every backend runs the same check, one
// after another; the page leaves PASS or FAIL in its body and { [backend]: result } in window.__result.
import { runCpuWasm } from './cpu-wasm.js';
import { runTfjs } from './tfjs.js';
import { runWebgpu } from './webgpu.js';

const BACKENDS = { 'cpu-wasm': runCpuWasm, webgpu: runWebgpu, tfjs: runTfjs };

async function run() {
  const results = {};
  for (const [name, fn] of Object.entries(BACKENDS)) {
    try {
      results[name] = await fn();
    } catch (e) {
      results[name] = { pass: false, error: String(e?.stack ?? e) };
    }
  }
  return results;
}

run().then((results) => {
  globalThis.__result = results;
  const pass = Object.values(results).every((r) => r.pass);
  document.body.textContent = `${pass ? 'PASS' : 'FAIL'} ${JSON.stringify(results)}`;
});
