import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AttentionPlan,
  emptyResult,
  gatherPiece,
  isWhole,
  type PieceOptions,
  planAttention,
  planPieces,
  residuePartition,
  scatterPiece,
} from '../src/entry/backend.js';
import { referenceAttention } from '../src/entry/reference.js';
import { type AttentionRequest, type AttentionResult, type Pattern, union } from '../src/index.js';
import { qkv } from './helpers.js';

const sameBits = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((x, n) => Object.is(x, b[n]));

/** What the kit does with the pieces of a call: gather each, run it, scatter its result back. */
async function runPieces(
  request: AttentionRequest,
  plan: AttentionPlan,
  options: PieceOptions,
  run: (sub: AttentionRequest, subPlan: AttentionPlan) => Promise<AttentionResult>,
): Promise<AttentionResult> {
  const pieces = planPieces(plan, options);
  const inputs = pieces.map((p) => gatherPiece(request, plan, p));
  if (pieces.length === 1 && isWhole(plan, pieces[0]!.select)) return run(inputs[0]!, pieces[0]!.plan);
  const result = emptyResult(plan);
  for (let n = 0; n < pieces.length; n++) scatterPiece(result, await run(inputs[n]!, pieces[n]!.plan), plan, pieces[n]!);
  return result;
}

describe('dilation by partition', () => {
  it('splits dilated and dilated-neighborhood heads into residue groups with undilated patterns', () => {
    const plan = planAttention({ ...qkv({ Sq: 10, Sk: 10 }), pattern: { kind: 'dilated', dilation: 3, left: 2 } });
    const p = residuePartition(plan)!;
    expect(p.dilation).toBe(3);
    expect(p.patterns).toEqual([{ kind: 'local', left: 2 }]);
    expect(p.groups).toEqual([
      { residue: 0, q0: 0, qCount: 4, k0: 0, kCount: 4, queryOffset: 0 },
      { residue: 1, q0: 1, qCount: 3, k0: 1, kCount: 3, queryOffset: 0 },
      { residue: 2, q0: 2, qCount: 3, k0: 2, kCount: 3, queryOffset: 0 },
    ]);
    // Decoding: 3 queries at the end of 11 keys (offset 8): query i has position i + 8.
    const dec = residuePartition(planAttention({ ...qkv({ Sq: 3, Sk: 11 }), pattern: { kind: 'dilated', dilation: 2 } }))!;
    expect(dec.groups).toEqual([
      { residue: 0, q0: 0, qCount: 2, k0: 0, kCount: 6, queryOffset: 4 },
      { residue: 1, q0: 1, qCount: 1, k0: 1, kCount: 5, queryOffset: 4 },
    ]);
    const nat = residuePartition(planAttention({ ...qkv({ Sq: 9 }), pattern: { kind: 'neighborhood', kernel: 3, dilation: 2, causal: true } }))!;
    expect(nat.patterns).toEqual([{ kind: 'neighborhood', kernel: 3, causal: true }]);
  });

  it('does not apply to undilated, composed or mixed-dilation heads', () => {
    const none = (pattern: Pattern | Pattern[], Hq = 1) => residuePartition(planAttention({ ...qkv({ Sq: 8, Hq }), pattern }));
    expect(none({ kind: 'local', left: 2, right: 2 })).toBeNull();
    expect(none({ kind: 'dilated', dilation: 1, left: 2 })).toBeNull();
    expect(none(union({ kind: 'dilated', dilation: 2 }, { kind: 'causal' }))).toBeNull();
    expect(
      none(
        [
          { kind: 'dilated', dilation: 2 },
          { kind: 'dilated', dilation: 3 },
        ],
        2,
      ),
    ).toBeNull();
    expect(none([{ kind: 'dilated', dilation: 2 }, { kind: 'local' }], 2)).toBeNull();
    expect(
      none(
        [
          { kind: 'dilated', dilation: 2, left: 1 },
          { kind: 'neighborhood', kernel: 3, dilation: 2 },
        ],
        2,
      ),
    ).not.toBeNull();
  });

  it('the kit runs the whole call, or one piece per residue group when enabled and applicable', async () => {
    const calls: number[] = [];
    const run = async (r: Parameters<typeof referenceAttention>[0], p: ReturnType<typeof planAttention>) => {
      calls.push(p.seqQ);
      return referenceAttention(r);
    };
    const dilated = { ...qkv({ Sq: 10 }), pattern: { kind: 'dilated', dilation: 3 } as Pattern };
    const plan = planAttention(dilated);
    await runPieces(dilated, plan, { partitionDilation: false }, run);
    expect(calls).toEqual([10]);
    calls.length = 0;
    const got = await runPieces(dilated, plan, {}, run);
    expect(calls).toEqual([4, 3, 3]);
    expect(sameBits(got.out.data, referenceAttention(dilated).out.data)).toBe(true);
    calls.length = 0;
    const causal = { ...dilated, pattern: { kind: 'causal' } as Pattern };
    await runPieces(causal, planAttention(causal), {}, run);
    expect(calls).toEqual([10]);
  });

  it('gives bit-identical results to the whole call (reference), for any shapes, offsets, layouts and heads, with or without head groups', async () => {
    const dilatedArb = (d: number) =>
      fc
        .record({ left: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }), right: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }) })
        .map((o) => {
          const p: Pattern = { kind: 'dilated', dilation: d };
          if (o.left !== undefined) p.left = o.left;
          if (o.right !== undefined) p.right = o.right;
          return p;
        });
    const caseArb = fc
      .record({
        d: fc.integer({ min: 2, max: 5 }),
        B: fc.integer({ min: 1, max: 2 }),
        Hkv: fc.integer({ min: 1, max: 2 }),
        group: fc.integer({ min: 1, max: 2 }),
        Sq: fc.integer({ min: 1, max: 23 }),
        Sk: fc.integer({ min: 1, max: 23 }),
        D: fc.integer({ min: 1, max: 6 }),
        Dv: fc.integer({ min: 1, max: 5 }),
        layout: fc.constantFrom('bhsd' as const, 'bshd' as const),
        offset: fc.option(fc.integer({ min: -12, max: 12 }), { nil: undefined }),
        neighborhood: fc.boolean(),
        seed: fc.integer({ min: 1, max: 1000 }),
        // Pieces of at most this many (batch entry × kv head) units, when set: residue groups and head groups together.
        unitsPerPiece: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
      })
      .chain((c) => {
        const Hq = c.Hkv * c.group;
        const head = c.neighborhood
          ? fc
              .record({ kernel: fc.integer({ min: 1, max: 6 }), causal: fc.boolean() })
              .map((n): Pattern => ({ kind: 'neighborhood', kernel: n.kernel, dilation: c.d, causal: n.causal }))
          : dilatedArb(c.d);
        return fc.record({ c: fc.constant(c), patterns: fc.array(head, { minLength: Hq, maxLength: Hq }) });
      });
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ c, patterns }) => {
        const Sk = c.neighborhood ? c.Sq : c.Sk;
        const req = {
          ...qkv({ B: c.B, Hq: c.Hkv * c.group, Hkv: c.Hkv, Sq: c.Sq, Sk, D: c.D, Dv: c.Dv, layout: c.layout, seed: c.seed }),
          pattern: patterns,
          returnLse: true,
          ...(c.offset !== undefined && !c.neighborhood ? { queryOffset: c.offset } : {}),
          ...(c.neighborhood ? { queryOffset: 0 } : {}),
        };
        const plan = planAttention(req);
        const partition = residuePartition(plan);
        expect(partition).not.toBeNull();
        let calls = 0;
        const split = c.unitsPerPiece === undefined ? {} : { pieceBytes: (p: AttentionPlan) => p.batch * p.headsKv, maxPieceBytes: c.unitsPerPiece };
        const got = await runPieces(req, plan, split, async (sub, subPlan) => {
          calls++;
          if (c.unitsPerPiece !== undefined) expect(subPlan.batch * subPlan.headsKv).toBeLessThanOrEqual(Math.max(1, c.unitsPerPiece));
          return referenceAttention(sub);
        });
        const want = referenceAttention(req);
        expect(got.out.shape).toEqual(want.out.shape);
        expect(sameBits(got.out.data, want.out.data)).toBe(true);
        expect(sameBits(got.lse!.data, want.lse!.data)).toBe(true);
        expect(calls).toBeLessThanOrEqual(c.d * (c.unitsPerPiece === undefined ? 1 : c.B * c.Hkv));
      }),
      { numRuns: 300, seed: 20261129 },
    );
  });
});
