import type { BindingKinds } from '../pipelines.js';

/** Binding numbers of the one bind group every kernel uses (encode.ts binds buffers by the same names). */
export const BINDING = { params: 0, table: 1, q: 2, k: 3, v: 4, out: 5, lse: 6, aux: 7 } as const;

/** The fused kernel reads v and writes out and lse; the passes (top-k radix and tie, cluster labels) write aux. */
export type BindingSet = 'main' | 'pass';

interface Binding {
  n: number;
  kind: GPUBufferBindingType;
  wgsl: string;
}

const RO: GPUBufferBindingType = 'read-only-storage';
const RW: GPUBufferBindingType = 'storage';

const params: Binding = { n: BINDING.params, kind: 'uniform', wgsl: 'var<uniform> P: Params' };
const table: Binding = { n: BINDING.table, kind: RO, wgsl: 'var<storage, read> tab: array<u32>' };
const q: Binding = { n: BINDING.q, kind: RO, wgsl: 'var<storage, read> Q: array<f32>' };
const k: Binding = { n: BINDING.k, kind: RO, wgsl: 'var<storage, read> K: array<f32>' };

// One list per set drives both the WGSL declarations and the bind group layout, so the two cannot drift apart.
const SETS: Record<BindingSet, Binding[]> = {
  main: [
    params,
    table,
    q,
    k,
    { n: BINDING.v, kind: RO, wgsl: 'var<storage, read> V: array<f32>' },
    { n: BINDING.out, kind: RW, wgsl: 'var<storage, read_write> O: array<f32>' },
    { n: BINDING.lse, kind: RW, wgsl: 'var<storage, read_write> L: array<f32>' },
    { n: BINDING.aux, kind: RO, wgsl: 'var<storage, read> aux: array<u32>' },
  ],
  pass: [params, table, q, k, { n: BINDING.aux, kind: RW, wgsl: 'var<storage, read_write> aux: array<u32>' }],
};

export function bindingsWgsl(set: BindingSet): string {
  return `${SETS[set].map((b) => `@group(0) @binding(${b.n}) ${b.wgsl};`).join('\n')}\n`;
}

export function bindingKinds(set: BindingSet): BindingKinds {
  return Object.fromEntries(SETS[set].map((b) => [b.n, b.kind]));
}
