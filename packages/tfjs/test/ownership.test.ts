import type { AttentionRequest, AttentionResult, Pattern } from '@sparse/core';
import { describe, expect, it } from 'vitest';
import { tfjs } from '../src/index.js';
import { caseRequest, TF_BACKENDS, tf } from './helpers.js';

// docs/design.md: attention() reads q, k, v and the pattern before it returns its promise; afterwards the caller
// may overwrite, transfer or mutate them without changing the pending result.
const S = 24;
const explicit = (): Pattern => {
  const rowPtr = [0];
  const colIdx: number[] = [];
  for (let i = 0; i < S; i++) {
    for (let j = Math.max(0, i - 3); j <= i; j += 2) colIdx.push(j);
    rowPtr.push(colIdx.length);
  }
  return { kind: 'explicit', rowPtr, colIdx };
};
const fresh = (pattern: Pattern): AttentionRequest => caseRequest({ name: 'x', Hq: 2, Sq: S, pattern });

const tampering: [string, Pattern, (r: AttentionRequest) => void][] = [
  ['q.data overwritten', explicit(), (r) => r.q.data.fill(7)],
  ['k.data detached (its buffer transferred)', explicit(), (r) => structuredClone(r.k.data.buffer, { transfer: [r.k.data.buffer] })],
  ['v.data overwritten', explicit(), (r) => r.v.data.fill(Number.NaN)],
  [
    'the explicit pattern mutated',
    explicit(),
    (r) => {
      const p = r.pattern as { colIdx: number[]; rowPtr: number[] };
      p.colIdx.fill(0);
      p.rowPtr.fill(0);
    },
  ],
  ['q.data overwritten on a dilated call (run by residue groups)', { kind: 'dilated', dilation: 3, left: 2 }, (r) => r.q.data.fill(-3)],
];

for (const backend of TF_BACKENDS) {
  describe(`tf.js ${backend}: inputs belong to the caller again when attention() returns`, () => {
    for (const [name, pattern, tamper] of tampering) {
      it(`${name} right after the call: the result is unchanged`, async () => {
        const expected: AttentionResult = await tfjs({ tf, backendName: backend }).attention(fresh(structuredClone(pattern)));
        const be = tfjs({ tf, backendName: backend }); // first call: probe and backend switch still pending
        const request = fresh(structuredClone(pattern));
        const pending = be.attention(request);
        tamper(request);
        const r = await pending;
        expect(Array.from(r.out.data)).toEqual(Array.from(expected.out.data));
        expect(Array.from(r.lse!.data)).toEqual(Array.from(expected.lse!.data));
        await be.dispose();
      });
    }
  });
}
