// Inputs belong to the caller again when attention() returns: the call reads q, k, v and the pattern before it
// returns its promise, so overwriting or transferring them afterwards does not change the result.

import { makeRequest, rejection } from '@sparse/conformance/testing';
import type { AttentionRequest, AttentionResult } from '@sparse/core';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuWasm } from '../dist/index.js';

const copyOf = (req: AttentionRequest): AttentionRequest => ({
  ...req,
  q: { data: req.q.data.slice(), shape: req.q.shape },
  k: { data: req.k.data.slice(), shape: req.k.shape },
  v: { data: req.v.data.slice(), shape: req.v.shape },
  pattern: structuredClone(req.pattern),
});

/** Starts the call, then overwrites q, detaches k and v, and mutates the pattern before awaiting it. */
function tamperAfterCall(start: (req: AttentionRequest) => Promise<AttentionResult>, req: AttentionRequest): Promise<AttentionResult> {
  const pending = start(req);
  req.q.data.fill(7);
  structuredClone(req.k.data.buffer, { transfer: [req.k.data.buffer] });
  structuredClone(req.v.data.buffer, { transfer: [req.v.data.buffer] });
  if (!Array.isArray(req.pattern)) Object.assign(req.pattern, { left: 0, right: 0, dilation: 2 });
  return pending;
}

function expectSame(got: AttentionResult, want: AttentionResult): void {
  expect(Array.from(got.out.data)).toEqual(Array.from(want.out.data));
  expect(Array.from(got.lse!.data)).toEqual(Array.from(want.lse!.data));
}

describe.each([
  ['2 threads', { threads: 2 }],
  ['inline', { inline: true }],
  ['split into kv-head groups', { threads: 2, splitBytes: 1 }],
])('caller-owned inputs (%s)', (_label, options) => {
  const backend = cpuWasm(options);
  afterAll(() => backend.dispose());

  it.each([
    ['local', { kind: 'local' as const, left: 5, right: 3 }],
    ['dilated (run by residue groups)', { kind: 'dilated' as const, dilation: 3, left: 4, right: 4 }],
  ])('%s: overwriting and transferring the arrays right after the call does not change its result', async (_name, pattern) => {
    const req = makeRequest({ Hq: 4, Hkv: 2, Sq: 90, D: 16 }, pattern);
    const want = await backend.attention(copyOf(req));
    // Idle backend, then behind a call that holds the memory.
    expectSame(await tamperAfterCall((r) => backend.attention(r), copyOf(req)), want);
    const busy = backend.attention(copyOf(req));
    expectSame(await tamperAfterCall((r) => backend.attention(r), copyOf(req)), want);
    expectSame(await busy, want);
  });

  it.each(['q', 'k', 'v'] as const)('already detached %s.data is refused with INVALID_ARGUMENT naming it', async (name) => {
    const req = makeRequest({ Sq: 16, D: 8 }, { kind: 'causal' });
    structuredClone(req[name].data.buffer, { transfer: [req[name].data.buffer] });
    expect(backend.supports(req)).toMatch(`${name}.data`);
    const e = await rejection(backend.attention(req));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.field).toBe(`${name}.data`);
  });
});
