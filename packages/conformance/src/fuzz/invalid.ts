import type { AttentionRequest, HostTensor, Pattern } from '@sparse/core';
import fc from 'fast-check';
import type { FuzzedRequest } from './requests.js';

/** One way to break a valid request. `apply` gets a private copy it may change. */
export interface Breakage {
  name: string;
  apply: (r: AttentionRequest) => unknown;
}

const tensorOf = (shape: number[]): HostTensor => ({ data: new Float32Array(shape.reduce((a, b) => a * b, 1)), shape });

const deep = (levels: number): Pattern => {
  let p: Pattern = { kind: 'causal' };
  for (let n = 0; n < levels; n++) p = { kind: 'not', of: p };
  return p;
};
const cyclic = (): unknown => {
  const p: { kind: 'union'; of: unknown[] } = { kind: 'union', of: [{ kind: 'dense' }] };
  p.of.push(p);
  return p;
};
const detach = (t: HostTensor): HostTensor => {
  const data = t.data.slice();
  structuredClone(data.buffer, { transfer: [data.buffer] });
  return { data, shape: t.shape };
};
const bumped = (shape: readonly number[], axis: number, by = 1) => shape.map((x, n) => (n === axis ? x + by : x));

/** Every validation rule of the contract, each as a breakage of a valid request. */
export const BREAKAGES: readonly Breakage[] = [
  { name: 'request is null', apply: () => null },
  { name: 'q of rank 3', apply: (r) => ({ ...r, q: tensorOf(r.q.shape.slice(0, 3) as number[]) }) },
  { name: 'shape with a zero', apply: (r) => ({ ...r, k: { data: new Float32Array(0), shape: bumped(r.k.shape, 2, -r.k.shape[2]!) } }) },
  { name: 'shape with a fraction', apply: (r) => ({ ...r, v: { data: r.v.data, shape: bumped(r.v.shape, 3, 0.5) } }) },
  { name: 'shape not an array', apply: (r) => ({ ...r, q: { data: r.q.data, shape: 'big' } }) },
  { name: 'k batch mismatch', apply: (r) => ({ ...r, k: tensorOf(bumped(r.k.shape, 0)) }) },
  { name: 'k head dim mismatch', apply: (r) => ({ ...r, k: tensorOf(bumped(r.k.shape, 3)) }) },
  { name: 'v sequence mismatch', apply: (r) => ({ ...r, v: tensorOf(bumped(r.v.shape, r.layout === 'bshd' ? 1 : 2)) }) },
  {
    name: 'kv heads not dividing query heads',
    apply: (r) => {
      const axis = r.layout === 'bshd' ? 2 : 1;
      const hq = r.q.shape[axis]!;
      return {
        ...r,
        k: tensorOf(bumped(r.k.shape, axis, hq + 1 - r.k.shape[axis]!)),
        v: tensorOf(bumped(r.v.shape, axis, hq + 1 - r.v.shape[axis]!)),
      };
    },
  },
  { name: 'data one element short', apply: (r) => ({ ...r, q: { data: r.q.data.subarray(1), shape: r.q.shape } }) },
  { name: 'data not a Float32Array', apply: (r) => ({ ...r, v: { data: Float64Array.from(r.v.data), shape: r.v.shape } }) },
  { name: 'q detached', apply: (r) => ({ ...r, q: detach(r.q) }) },
  { name: 'k detached', apply: (r) => ({ ...r, k: detach(r.k) }) },
  { name: 'v detached', apply: (r) => ({ ...r, v: detach(r.v) }) },
  { name: 'scale NaN', apply: (r) => ({ ...r, scale: Number.NaN }) },
  { name: 'scale Infinity', apply: (r) => ({ ...r, scale: Number.POSITIVE_INFINITY }) },
  { name: 'scale a string', apply: (r) => ({ ...r, scale: '0.5' }) },
  { name: 'queryOffset a fraction', apply: (r) => ({ ...r, queryOffset: 1.5 }) },
  { name: 'queryOffset beyond 2^31', apply: (r) => ({ ...r, queryOffset: 2 ** 40 }) },
  { name: 'unknown layout', apply: (r) => ({ ...r, layout: 'bsdh' }) },
  { name: 'returnLse not a boolean', apply: (r) => ({ ...r, returnLse: 'yes' }) },
  { name: 'pattern null', apply: (r) => ({ ...r, pattern: null }) },
  { name: 'pattern as JSON text', apply: (r) => ({ ...r, pattern: '{"kind":"causal"}' }) },
  { name: 'pattern junk', apply: (r) => ({ ...r, pattern: { kind: 'local', left: '2' } }) },
  { name: 'unknown kind', apply: (r) => ({ ...r, pattern: { kind: 'sliding' } }) },
  { name: 'negative window', apply: (r) => ({ ...r, pattern: { kind: 'local', left: -1 } }) },
  { name: 'dilation 0', apply: (r) => ({ ...r, pattern: { kind: 'dilated', dilation: 0 } }) },
  { name: 'extra field', apply: (r) => ({ ...r, pattern: { kind: 'causal', window: 4 } }) },
  { name: 'top-k inside a union', apply: (r) => ({ ...r, pattern: { kind: 'union', of: [{ kind: 'causal' }, { kind: 'topk', k: 2 }] } }) },
  { name: 'nested 300 deep', apply: (r) => ({ ...r, pattern: deep(300) }) },
  { name: 'nested 5000 deep', apply: (r) => ({ ...r, pattern: deep(5000) }) },
  { name: 'pattern containing itself', apply: (r) => ({ ...r, pattern: cyclic() }) },
  {
    name: 'explicit rowPtr of the wrong length',
    apply: (r) => ({ ...r, pattern: { kind: 'explicit', rowPtr: [0, 0], colIdx: [] } }),
  },
  {
    name: 'global token out of range',
    apply: (r) => ({ ...r, pattern: { kind: 'global', tokens: [r.k.shape[r.layout === 'bshd' ? 1 : 2]!] } }),
  },
  { name: 'documents not starting at 0', apply: (r) => ({ ...r, pattern: { kind: 'documents', offsets: [1, 2] } }) },
  { name: 'cluster centroid of the wrong width', apply: (r) => ({ ...r, pattern: { kind: 'cluster', centroids: [new Array(r.q.shape[3]! + 1).fill(1)] } }) },
  { name: 'per-head array of the wrong length', apply: (r) => ({ ...r, pattern: [{ kind: 'causal' }] }) },
];

/** A valid request with one breakage applied (the same for every backend of a run: the fast-check seed decides). */
export function brokenArb(valid: fc.Arbitrary<FuzzedRequest>): fc.Arbitrary<{ breakage: string; request: unknown }> {
  return fc.record({ base: valid, n: fc.nat({ max: BREAKAGES.length - 1 }) }).map(({ base, n }) => {
    const b = BREAKAGES[n]!;
    return { breakage: b.name, request: b.apply({ ...base.request }) };
  });
}
