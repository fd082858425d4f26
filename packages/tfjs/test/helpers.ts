import type { AttentionRequest, AttentionResult, HostTensor, Layout, Pattern, ResidentRequest, ResidentResult } from '@sparse/core';
import { shapeOf } from '@sparse/core/backend';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { expect } from 'vitest';

export { tf };

/** Silence tf.js's Node.js banner; the tests run on the pure-JS cpu and the wasm backends on purpose. */
tf.env().set('IS_TEST', true);

export const TF_BACKENDS = ['cpu', 'wasm'] as const;

export async function useBackend(name: string): Promise<void> {
  if (tf.getBackend() !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`tf.js backend ${name} failed to initialise`);
  }
  await tf.ready();
}

/** Deterministic uniform(-1, 1) data. */
export function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 2147483648 - 1;
  }
  return out;
}

export interface CaseSpec {
  name: string;
  B?: number;
  Hq?: number;
  Hkv?: number;
  Sq: number;
  Sk?: number;
  D?: number;
  Dv?: number;
  layout?: Layout;
  pattern: Pattern | Pattern[];
  scale?: number;
  queryOffset?: number;
  /** Integer-valued inputs (exact scores: ties stay ties). */
  integers?: boolean;
  /** Make these keys copies of key 0 (exact top-k ties). */
  duplicateKeys?: number[];
}

export function hostTensor(layout: Layout, B: number, H: number, S: number, D: number, seed: number, integers = false): HostTensor {
  const data = random(B * H * S * D, seed);
  if (integers) for (let i = 0; i < data.length; i++) data[i] = Math.round(data[i]! * 2);
  return { data, shape: shapeOf(layout, B, H, S, D) };
}

export function makeRequest(spec: CaseSpec): AttentionRequest {
  const { B = 1, Hq = 2, Sq, D = 8, layout = 'bhsd' } = spec;
  const Hkv = spec.Hkv ?? Hq;
  const Sk = spec.Sk ?? Sq;
  const Dv = spec.Dv ?? D;
  const q = hostTensor(layout, B, Hq, Sq, D, 11, spec.integers);
  const k = hostTensor(layout, B, Hkv, Sk, D, 23, spec.integers);
  const v = hostTensor(layout, B, Hkv, Sk, Dv, 37);
  if (spec.duplicateKeys && layout === 'bhsd') {
    for (let b = 0; b < B; b++)
      for (let h = 0; h < Hkv; h++) {
        const base = (b * Hkv + h) * Sk * D;
        for (const j of spec.duplicateKeys) k.data.copyWithin(base + j * D, base, base + D);
      }
  }
  return { q, k, v, pattern: spec.pattern, scale: spec.scale, queryOffset: spec.queryOffset, layout, returnLse: true };
}

export interface Close {
  atol: number;
  rtol: number;
  lseAtol: number;
}

export const F32: Close = { atol: 1e-5, rtol: 1e-4, lseAtol: 1e-5 };

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Close, what: string, lse = false): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(a)) throw new Error(`${what}[${i}] is NaN (expected ${e})`);
    if (e === Number.NEGATIVE_INFINITY || a === Number.NEGATIVE_INFINITY) {
      if (a !== e) throw new Error(`${what}[${i}] = ${a}, expected ${e}`);
      continue;
    }
    const bound = lse ? tol.lseAtol : tol.atol + tol.rtol * Math.abs(e);
    if (!(Math.abs(a - e) <= bound)) throw new Error(`${what}[${i}] = ${a}, expected ${e} (|diff| ${Math.abs(a - e)} > ${bound})`);
  }
}

/** q, k, v of a host request as tf.Tensors on the active tf.js backend (the caller disposes them). */
export function upload(request: AttentionRequest): { q: tf.Tensor; k: tf.Tensor; v: tf.Tensor } {
  const up = (x: HostTensor) => tf.tensor(x.data, [...x.shape]);
  return { q: up(request.q), k: up(request.k), v: up(request.v) };
}

/**
 * A host request run through attentionResident of `backend`: uploaded, run, read back, and every tensor it made
 * disposed (lse is read only when the request asks for it).
 */
export async function viaResident(
  backend: { attentionResident(r: ResidentRequest<tf.Tensor>): Promise<ResidentResult<tf.Tensor>> },
  request: AttentionRequest,
): Promise<AttentionResult> {
  const inputs = upload(request);
  try {
    const r = await backend.attentionResident({ ...request, ...inputs });
    try {
      const out = { data: (await r.out.data()) as Float32Array, shape: r.out.shape };
      return r.lse ? { out, lse: { data: (await r.lse.data()) as Float32Array, shape: r.lse.shape } } : { out };
    } finally {
      tf.dispose([r.out, ...(r.lse ? [r.lse] : [])]);
    }
  } finally {
    tf.dispose([inputs.q, inputs.k, inputs.v]);
  }
}
