// A user's script: attention on the backends named in argv, each checked against a float64 attention written
// here from the definition, not taken from @sparse/core. It must exit on its own: nothing may keep Node alive,
// even with --no-dispose (a user who never calls dispose()).
import { globalTokens, local, reference, union } from '@sparse/core';

const [B, HQ, HKV, S, D] = [1, 4, 2, 80, 16];
const LEFT = 6;
const RIGHT = 3;
const GLOBAL = [0, 41];
const pattern = union(local(LEFT, RIGHT), globalTokens(GLOBAL));
const allowed = (i, j) => (i - j <= LEFT && j - i <= RIGHT) || GLOBAL.includes(i) || GLOBAL.includes(j);

let seed = 12345;
const random = () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32 - 0.5;
};
const tensor = (h) => ({ data: Float32Array.from({ length: B * h * S * D }, random), shape: [B, h, S, D] });
const q = tensor(HQ);
const k = tensor(HKV);
const v = tensor(HKV);

function expected() {
  const out = new Float64Array(B * HQ * S * D);
  const scale = 1 / Math.sqrt(D);
  for (let h = 0; h < HQ; h++) {
    const kh = Math.floor(h / (HQ / HKV));
    for (let i = 0; i < S; i++) {
      const scores = [];
      for (let j = 0; j < S; j++) {
        if (!allowed(i, j)) continue;
        let s = 0;
        for (let d = 0; d < D; d++) s += q.data[(h * S + i) * D + d] * k.data[(kh * S + j) * D + d];
        scores.push([j, s * scale]);
      }
      const m = Math.max(...scores.map(([, s]) => s));
      const l = scores.reduce((a, [, s]) => a + Math.exp(s - m), 0);
      for (const [j, s] of scores) {
        const w = Math.exp(s - m) / l;
        for (let d = 0; d < D; d++) out[(h * S + i) * D + d] += w * v.data[(kh * S + j) * D + d];
      }
    }
  }
  return out;
}

async function tfjsBackend(name) {
  const tf = await import('@tensorflow/tfjs-core');
  await import(`@tensorflow/tfjs-backend-${name}`);
  const { tfjs } = await import('@sparse/tfjs');
  return tfjs({ tf, backendName: name });
}

const BACKENDS = {
  reference: async () => reference(),
  'cpu-wasm-threads': async () => (await import('@sparse/cpu-wasm')).cpuWasm({ threads: 2 }),
  'cpu-wasm-inline': async () => (await import('@sparse/cpu-wasm')).cpuWasm({ inline: true }),
  'tfjs-cpu': () => tfjsBackend('cpu'),
  'tfjs-wasm': () => tfjsBackend('wasm'),
};

const want = expected();
const dispose = !process.argv.includes('--no-dispose');
for (const name of process.argv.slice(2).filter((a) => !a.startsWith('--'))) {
  const backend = await BACKENDS[name]();
  const probe = await backend.probe();
  if (!probe.available) throw new Error(`${name}: not available: ${probe.reason}`);
  const { out } = await backend.attention({ q, k, v, pattern });
  let err = 0;
  for (let n = 0; n < want.length; n++) err = Math.max(err, Math.abs(out.data[n] - want[n]));
  if (dispose) await backend.dispose();
  if (!(err < 1e-4)) throw new Error(`${name}: max |out - float64| = ${err}`);
  console.log(`${name} ok ${err.toExponential(2)} (${probe.device ?? ''})`);
}
