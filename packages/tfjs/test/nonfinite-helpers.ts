import { cloneRequest } from '@sparse/conformance/testing';
import type { AttentionRequest, AttentionResult } from '@sparse/core';
import { planAttention } from '@sparse/core/backend';
import { makePredicate } from '@sparse/core/reference';
import { expect } from 'vitest';
import { type TfjsBackendOptions, tfjs } from '../src/index.js';
import { tf, useBackend, viaResident } from './helpers.js';

/** Every tf.js path a request can take: the host Backend (default settings) and both resident strategies. */
export const PATHS: [string, TfjsBackendOptions | 'host'][] = [
  ['host Backend', 'host'],
  ['resident batched 16x16, small chunks', { strategy: 'batched', tiles: { blockQ: 16, blockK: 16 }, maxScoreElements: 4096 }],
  ['resident plain 16x8', { strategy: 'plain', tiles: { blockQ: 16, blockK: 8 } }],
];

export async function runPath(backend: string, request: AttentionRequest, path: TfjsBackendOptions | 'host'): Promise<AttentionResult> {
  await useBackend(backend);
  const be = tfjs({ tf, backendName: backend, ...(path === 'host' ? {} : path) });
  try {
    return path === 'host' ? await be.attention(request) : await viaResident(be, request);
  } finally {
    await be.dispose();
  }
}

/** A copy of a request (cloneRequest) whose data arrays `change` alters, so that one request can be altered per case. */
export function withData(request: AttentionRequest, change: (data: { q: Float32Array; k: Float32Array; v: Float32Array }) => void): AttentionRequest {
  const copy = cloneRequest(request);
  change({ q: copy.q.data, k: copy.k.data, v: copy.v.data });
  return copy;
}

/** Sets every entry of row `row` (sequence index) of head `h` of a bhsd tensor of one batch. */
export function setRow(data: Float32Array, seq: number, dim: number, h: number, row: number, value: number): void {
  data.fill(value, (h * seq + row) * dim, (h * seq + row + 1) * dim);
}

/** The keys query (h, i) attends under a static pattern (batch 1). */
export function attended(request: AttentionRequest, h: number, i: number): number[] {
  const plan = planAttention(request);
  const allowed = makePredicate(plan.patterns[h]!, plan);
  return Array.from({ length: plan.seqK }, (_, j) => j).filter((j) => allowed(i, j));
}

/**
 * The rule's check: rows for which `bad(h, i)` holds are NaN in every entry of out and in lse; every other row is
 * bit-for-bit the row of `clean` (the same call without the bad values).
 */
export function expectRows(
  r: AttentionResult,
  clean: AttentionResult,
  heads: number,
  seq: number,
  dv: number,
  bad: (h: number, i: number) => boolean,
  what: string,
): void {
  const same = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < seq; i++) {
      const row = h * seq + i;
      const out = Array.from(r.out.data.subarray(row * dv, (row + 1) * dv));
      const lse = r.lse!.data[row]!;
      if (bad(h, i)) {
        expect(out.every(Number.isNaN) && Number.isNaN(lse), `${what}: row (h=${h}, i=${i}) must be NaN, got out ${out} lse ${lse}`).toBe(true);
        continue;
      }
      const want = Array.from(clean.out.data.subarray(row * dv, (row + 1) * dv));
      const ok = out.every((x, d) => same(x, want[d]!)) && same(lse, clean.lse!.data[row]!);
      expect(ok, `${what}: row (h=${h}, i=${i}) out ${out} lse ${lse}, expected ${want} lse ${clean.lse!.data[row]}`).toBe(true);
    }
}
