import { assertClose, FLOAT32_TOLERANCE } from '@sparse/conformance/testing';
import { type AttentionRequest, type AttentionResult, causal, local, type Pattern } from '@sparse/core';
import { referenceAttention } from '@sparse/core/reference';
import { describe, expect, it } from 'vitest';
import { caseRequest, TF_BACKENDS } from './helpers.js';
import { attended, expectRows, PATHS, runPath, setRow, withData } from './nonfinite-helpers.js';

// The non-finite rule of docs/design.md, clause by clause, on every tf.js path (host Backend, resident batched
// and plain products) of the cpu and wasm tf.js backends.
const S = 512;
const D = 8;
const HQ = 2;
const base = (pattern: Pattern | Pattern[]) => caseRequest({ name: 'x', Hq: HQ, Hkv: 1, Sq: S, D, pattern });

/** Rows that attend key j under the request's static pattern (every query head). */
const attends = (request: AttentionRequest, j: number) => (h: number, i: number) => attended(request, h, i).includes(j);

/** Rows the reference turns NaN in out (a NaN v of a kept key reaches out through its weight there). */
const nanInReference = (request: AttentionRequest) => {
  const ref = referenceAttention(request);
  return (h: number, i: number) => Number.isNaN(ref.out.data[(h * S + i) * D]!);
};

/**
 * `r` close to `ref` (out at float32's tolerance, lse within 1e-5 + 1e-6·|ref|: overflowing scores give lse ~1e28
 * here, a few float32 ulps from the reference), with the rows in `nanRows` NaN in all of out and lse.
 */
function expectNear(r: AttentionResult, ref: AttentionResult, what: string, nanRows: Set<number> = new Set()): void {
  const out = Float32Array.from(ref.out.data);
  const lse = Float32Array.from(ref.lse!.data);
  const dv = out.length / lse.length;
  for (const row of nanRows) {
    out.fill(Number.NaN, row * dv, (row + 1) * dv);
    lse[row] = Number.NaN;
  }
  assertClose(r.out.data, out, FLOAT32_TOLERANCE, `${what}: out`);
  assertClose(r.lse!.data, lse, { ...FLOAT32_TOLERANCE, atol: FLOAT32_TOLERANCE.lseAtol, rtol: 1e-6 }, `${what}: lse`);
}

for (const backend of TF_BACKENDS) {
  describe(`non-finite values on tf.js ${backend}`, () => {
    const band = base(local(2, 2));
    const cases: [string, AttentionRequest, AttentionRequest, (h: number, i: number) => boolean][] = [
      ['NaN in k at key 3 of local(2, 2): rows 1-5', withData(band, (x) => setRow(x.k, S, D, 0, 3, Number.NaN)), band, attends(band, 3)],
      ['NaN in v at key 3: rows 1-5', withData(band, (x) => setRow(x.v, S, D, 0, 3, Number.NaN)), band, attends(band, 3)],
      ['Inf in one entry of v at key 200: rows 198-202', withData(band, (x) => (x.v[200 * D + 5] = Number.POSITIVE_INFINITY)), band, attends(band, 200)],
      ['-Inf in k at key 100: rows 98-102', withData(band, (x) => (x.k[100 * D] = Number.NEGATIVE_INFINITY)), band, attends(band, 100)],
      ['NaN in the q row 7 of head 1: that row only', withData(band, (x) => setRow(x.q, S, D, 1, 7, Number.NaN)), band, (h, i) => h === 1 && i === 7],
    ];
    const docs = base({ kind: 'documents', offsets: [0, 200, 400] });
    cases.push([
      'NaN and Inf in the padding of documents (k, v and q): no row changes',
      withData(docs, (x) => {
        setRow(x.k, S, D, 0, 450, Number.NaN);
        setRow(x.v, S, D, 0, 460, Number.POSITIVE_INFINITY);
        x.k[480 * D + 2] = Number.NEGATIVE_INFINITY;
        setRow(x.q, S, D, 0, 470, Number.NaN);
      }),
      docs,
      () => false,
    ]);
    const topk = base({ kind: 'topk', k: 2, within: local(3, 3) });
    const topkVBad = withData(topk, (x) => setRow(x.v, S, D, 0, 40, Number.NaN));
    cases.push([
      'top-k: a NaN score of any candidate of within',
      withData(topk, (x) => setRow(x.k, S, D, 0, 10, Number.NaN)),
      topk,
      attends(base(local(3, 3)), 10),
    ]);
    cases.push(['top-k: NaN in v counts for kept keys only', topkVBad, topk, nanInReference(topkVBad)]);
    const centroids = [Array.from({ length: D }, (_, d) => (d % 2 ? 1 : -1)), Array.from({ length: D }, (_, d) => (d < 4 ? 1 : 0.5))];
    const cluster = base({ kind: 'cluster', centroids, within: causal() });
    const clusterVBad = withData(cluster, (x) => setRow(x.v, S, D, 0, 50, Number.NaN));
    cases.push(['cluster: NaN in v counts for rows with the key label only', clusterVBad, cluster, nanInReference(clusterVBad)]);

    for (const [name, request, clean, bad] of cases) {
      it(name, async () => {
        const badRows = Array.from({ length: HQ * S }, (_, n) => bad(Math.floor(n / S), n % S)).filter(Boolean).length;
        if (name.includes('v counts')) expect(badRows, 'the case must make some rows NaN and leave some attending rows alone').toBeGreaterThan(0);
        for (const [label, path] of PATHS) {
          const r = await runPath(backend, request, path);
          const c = await runPath(backend, clean, path);
          expectRows(r, c, HQ, S, D, bad, `${label}`);
        }
      });
    }

    it('scores near ±3e32 (beyond any finite mask constant) match the reference', async () => {
      for (const sign of [1, -1]) {
        const request = withData(base(causal()), (x) => {
          x.q.fill(1e16);
          for (let j = 0; j < S; j++) x.k.fill(sign * 1e16 * (1 + j / S), j * D, (j + 1) * D);
        });
        const ref = referenceAttention(request);
        for (const [label, path] of PATHS) expectNear(await runPath(backend, request, path), ref, `${label}, sign ${sign}`);
      }
    });

    it('a score that overflows float32 makes its row NaN when attended, and changes nothing when masked', async () => {
      const request = withData(band, (x) => {
        setRow(x.q, S, D, 0, 30, 1e30);
        setRow(x.k, S, D, 0, 31, -1e30); // attended by row 30: score -Inf in float32
        setRow(x.q, S, D, 0, 100, 1e30);
        setRow(x.k, S, D, 0, 300, 1e30); // masked for row 100
      });
      const ref = referenceAttention(request);
      for (const [label, path] of PATHS) expectNear(await runPath(backend, request, path), ref, label, new Set([30]));
    });

    it('q and k near 1e30 everywhere: every row with a key is NaN, rows without keys give 0 and -Infinity', async () => {
      const request = withData({ ...base(causal()), queryOffset: -3 }, (x) => {
        x.q.fill(1e30);
        x.k.fill(1e30);
      });
      for (const [label, path] of PATHS) {
        const r = await runPath(backend, request, path);
        for (let row = 0; row < HQ * S; row++) {
          const out = Array.from(r.out.data.subarray(row * D, (row + 1) * D));
          const lse = r.lse!.data[row]!;
          if (row % S < 3) expect([out.every((x) => x === 0), lse], `${label} row ${row}`).toEqual([true, Number.NEGATIVE_INFINITY]);
          else expect(out.every(Number.isNaN) && Number.isNaN(lse), `${label} row ${row}: ${out} ${lse}`).toBe(true);
        }
      }
    });
  });
}
