import type { HostTensor } from '@sparse/core';
import { mulberry32 } from '@sparse/core/reference';
import type { Shape } from './workloads.js';

export interface Inputs {
  q: HostTensor;
  k: HostTensor;
  v: HostTensor;
}

/** Uniform values in [-√3, √3] (unit variance): scores of moderate size after the 1/√D scale. */
function fill(n: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(n);
  const a = Math.sqrt(3);
  for (let i = 0; i < n; i++) out[i] = ((rand() / 2 ** 32) * 2 - 1) * a;
  return out;
}

/** Seed from the sizes: every workload of one shape (and every target) sees the same inputs. */
export function shapeSeed(s: Pick<Shape, 'seq' | 'headDim' | 'headsQ' | 'headsKv'> & { queries?: number }): number {
  const base = (Math.imul(s.seq, 0x9e3779b1) ^ Math.imul(s.headDim, 0x85ebca6b) ^ Math.imul(s.headsQ * 131 + s.headsKv, 0xc2b2ae35)) >>> 0;
  return s.queries === undefined ? base : (base ^ Math.imul(s.queries + 1, 0x27d4eb2f)) >>> 0;
}

/** The inputs' identity: cases with equal keys share their inputs (a child keeps them between such cases). */
export function inputsKey(s: Pick<Shape, 'seq' | 'headDim' | 'headsQ' | 'headsKv'> & { queries?: number }): string {
  return `${s.seq}/${s.headDim}/${s.headsQ}/${s.headsKv}${s.queries === undefined ? '' : `/q${s.queries}`}`;
}

/** q [1, Hq, Sq, D] (Sq = `queries`, else N), k and v [1, Hkv, N, D] in bhsd, deterministic. */
export function makeInputs(s: Pick<Shape, 'seq' | 'headDim' | 'headsQ' | 'headsKv'> & { queries?: number }): Inputs {
  const seed = shapeSeed(s);
  const { seq: N, headDim: D, headsQ, headsKv } = s;
  const Sq = s.queries ?? N;
  return {
    q: { data: fill(headsQ * Sq * D, seed ^ 1), shape: [1, headsQ, Sq, D] },
    k: { data: fill(headsKv * N * D, seed ^ 2), shape: [1, headsKv, N, D] },
    v: { data: fill(headsKv * N * D, seed ^ 3), shape: [1, headsKv, N, D] },
  };
}

/** The last `rows` query rows of every head of a bhsd tensor (they keep their positions by bottom-right alignment). */
export function lastRows(t: HostTensor, rows: number): HostTensor {
  const [B, H, S, D] = t.shape as [number, number, number, number];
  if (rows >= S) return t;
  const out = new Float32Array(B * H * rows * D);
  for (let bh = 0; bh < B * H; bh++) out.set(t.data.subarray((bh * S + S - rows) * D, (bh * S + S) * D), bh * rows * D);
  return { data: out, shape: [B, H, rows, D] };
}

/** The first `rows` sequence positions of every head (a kv-cache prefix), bhsd. */
export function firstRows(t: HostTensor, rows: number): HostTensor {
  const [B, H, S, D] = t.shape as [number, number, number, number];
  const out = new Float32Array(B * H * rows * D);
  for (let bh = 0; bh < B * H; bh++) out.set(t.data.subarray(bh * S * D, (bh * S + rows) * D), bh * rows * D);
  return { data: out, shape: [B, H, rows, D] };
}

/**
 * Sequence positions start .. start + rows of every head, bhsd; positions before 0 are zero rows (filler that no
 * query attends).
 */
export function rowRange(t: HostTensor, start: number, rows: number): HostTensor {
  const [B, H, S, D] = t.shape as [number, number, number, number];
  const out = new Float32Array(B * H * rows * D);
  const from = Math.max(0, start);
  const to = Math.min(S, start + rows);
  for (let bh = 0; bh < B * H; bh++) if (to > from) out.set(t.data.subarray((bh * S + from) * D, (bh * S + to) * D), (bh * rows + from - start) * D);
  return { data: out, shape: [B, H, rows, D] };
}

/** bhsd → bshd copy (onnxruntime's GroupQueryAttention takes [B, S, H·D]). */
export function toBshd(t: HostTensor): Float32Array {
  const [B, H, S, D] = t.shape as [number, number, number, number];
  const out = new Float32Array(t.data.length);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let s = 0; s < S; s++) out.set(t.data.subarray(((b * H + h) * S + s) * D, ((b * H + h) * S + s + 1) * D), ((b * S + s) * H + h) * D);
  return out;
}

/** bshd → bhsd copy. */
export function fromBshd(data: Float32Array, B: number, S: number, H: number, D: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let b = 0; b < B; b++)
    for (let s = 0; s < S; s++)
      for (let h = 0; h < H; h++) out.set(data.subarray(((b * S + s) * H + h) * D, ((b * S + s) * H + h + 1) * D), ((b * H + h) * S + s) * D);
  return out;
}

export function tensorBytes(...ts: HostTensor[]): number {
  return ts.reduce((n, t) => n + t.data.byteLength, 0);
}
