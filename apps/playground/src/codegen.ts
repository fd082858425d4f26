import type { Pattern } from './sparse.js';
import type { BackendId, RunState } from './state.js';

/** The import and constructor lines of each backend in a user's own project. */
function backendLines(id: BackendId): { imports: string[]; make: string } {
  switch (id) {
    case 'cpu-wasm':
      return { imports: ["import { cpuWasm } from '@sparse/cpu-wasm';"], make: 'cpuWasm()' };
    case 'webgpu':
      return { imports: ["import { webgpu } from '@sparse/webgpu';"], make: 'webgpu()' };
    case 'reference':
      return { imports: ["import { reference } from '@sparse/core';"], make: 'reference()' };
    default: {
      const name = id.slice('tfjs-'.length);
      return {
        imports: ["import * as tf from '@tensorflow/tfjs-core';", `import '@tensorflow/tfjs-backend-${name}';`, "import { tfjs } from '@sparse/tfjs';"],
        make: `tfjs({ tf, backendName: '${name}' })`,
      };
    }
  }
}

/** A runnable ES module for the current pattern (or per-head list), shapes and backend. */
export function codeFor(pattern: Pattern | Pattern[], run: RunState, id: BackendId): string {
  const { imports, make } = backendLines(id);
  const q = run.layout === 'bhsd' ? '[B, H, Sq, D]' : '[B, Sq, H, D]';
  const kv = run.layout === 'bhsd' ? '[B, Hkv, Sk, D]' : '[B, Sk, Hkv, D]';
  const json = JSON.stringify(pattern, null, 2);
  return `${imports.join('\n')}

const pattern = ${json};
const [B, H, Hkv, Sq, Sk, D] = [${run.b}, ${run.h}, ${run.hkv}, ${run.sq}, ${run.sk}, ${run.d}];
const tensor = (shape) => ({ data: Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => Math.random() - 0.5), shape });
const q = tensor(${q});
const k = tensor(${kv});
const v = tensor(${kv});

const backend = ${make};
console.log(await backend.probe());
const t0 = performance.now();
const { out } = await backend.attention({ q, k, v, pattern, layout: '${run.layout}' });
console.log(out.shape, \`\${(performance.now() - t0).toFixed(1)} ms\`);
await backend.dispose();
`;
}
