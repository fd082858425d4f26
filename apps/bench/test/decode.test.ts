import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { local } from '@sparse/core';
import { referenceAttention } from '@sparse/core/reference';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgs, USAGE, UsageError } from '../src/args.js';
import { bandwidthFigures, measureMemoryBandwidth, sum4 } from '../src/bandwidth.js';
import { makePlan } from '../src/config.js';
import { fromBshd, lastRows, makeInputs, toBshd } from '../src/data.js';
import { gqaDecodeModel } from '../src/onnx/attention-models.js';
import { buildCharts } from '../src/report/charts.js';
import { decodeHeadline, headlines } from '../src/report/headlines.js';
import type { BenchOutput } from '../src/report/write.js';
import { score } from '../src/score.js';
import { caseStats, requiredBytes } from '../src/stats.js';
import { gqaDecodeStep } from '../src/targets/ort-targets.js';
import { createTarget } from '../src/targets/registry.js';
import type { CaseRecord, TargetSpec } from '../src/types.js';
import { buildPattern, DECODE_HEADLINE, decodeDefault, decodeGrid, describeCase, isDecode, makeDecodeCase, seqQ, shortPrefill } from '../src/workloads.js';
import { context, ensureBuilt, mainJs, RssSampler } from './helpers.js';

const sampler = new RssSampler();
afterAll(() => sampler.dispose());

function maxErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!));
  return e;
}

describe('decode workloads', () => {
  it('names the headline case by what it is, with Sk = cache + Sq and a bottom-right causal window', () => {
    const c = makeDecodeCase(DECODE_HEADLINE);
    expect(c.id).toBe('decode/Sq1/kv32768/w4096/D128/H32:8');
    expect(c).toMatchObject({ pattern: 'causal-sliding', seq: 32769, queries: 1, headDim: 128, headsQ: 32, headsKv: 8, window: 4096 });
    expect(isDecode(c)).toBe(true);
    expect(seqQ(c)).toBe(1);
    expect(buildPattern(c)).toEqual(local(4095, 0));
    expect(describeCase(c)).toMatch(/1 new token after a kv cache of 32768 \(Sk = 32769\).*queryOffset = Sk − Sq = 32768/);
  });

  it('the grid: Sq 1, 16 × cache 4096 … 131072 × w 1024 … 8192 (w ≤ cache) × D 64, 128, all GQA 32:8', () => {
    const grid = decodeGrid();
    // cache 4096 takes windows 1024, 2048, 4096; the five longer caches take all four.
    expect(grid).toHaveLength(2 * 2 * (3 + 5 * 4));
    expect(new Set(grid.map((c) => c.id)).size).toBe(grid.length);
    expect(new Set(grid.map((c) => c.queries))).toEqual(new Set([1, 16]));
    expect(new Set(grid.map((c) => c.seq - c.queries!))).toEqual(new Set([4096, 8192, 16384, 32768, 65536, 131072]));
    for (const c of grid) {
      expect(c.window).toBeLessThanOrEqual(c.seq - c.queries!);
      expect([c.headsQ, c.headsKv]).toEqual([32, 8]);
    }
    expect(grid.some((c) => c.id === 'decode/Sq16/kv131072/w8192/D64/H32:8')).toBe(true);
    const subset = decodeDefault().map((c) => c.id);
    expect(subset[0]).toBe('decode/Sq1/kv32768/w4096/D128/H32:8');
    for (const id of subset) expect(grid.map((c) => c.id)).toContain(id);
  });

  it('short prefill: causal window w = 256 at N = 1024 and 2048, self attention', () => {
    expect(shortPrefill([64, 128]).map((c) => c.id)).toEqual([
      'causal-sliding/N1024/D64/H32:8/w256',
      'causal-sliding/N1024/D128/H32:8/w256',
      'causal-sliding/N2048/D64/H32:8/w256',
      'causal-sliding/N2048/D128/H32:8/w256',
    ]);
    for (const c of shortPrefill()) expect(isDecode(c)).toBe(false);
  });

  it('inputs: q holds the Sq new tokens, k and v all Sk positions', () => {
    const c = makeDecodeCase({ newTokens: 4, cache: 60, window: 16, headDim: 8, headsQ: 4, headsKv: 2 });
    const inputs = makeInputs(c);
    expect(inputs.q.shape).toEqual([1, 4, 4, 8]);
    expect(inputs.k.shape).toEqual([1, 2, 64, 8]);
    expect(inputs.v.shape).toEqual([1, 2, 64, 8]);
  });

  it('stats count the window of the new tokens only: nnz, density and the keys read', () => {
    for (const [newTokens, cache, window] of [
      [1, 100, 16],
      [4, 100, 16],
      [16, 200, 64],
      [3, 5, 64], // the window reaches the first key
    ] as const) {
      const c = makeDecodeCase({ newTokens, cache, window, headDim: 8, headsQ: 4, headsKv: 2 });
      const Sk = cache + newTokens;
      const s = caseStats(c, buildPattern(c), null);
      let perHead = 0;
      for (let i = 0; i < newTokens; i++) perHead += Math.min(window, cache + i + 1);
      expect(s.nnz).toBe(4 * perHead);
      expect(s.density).toBeCloseTo((4 * perHead) / (4 * newTokens * Sk), 12);
      expect(s.keysRead).toBe(Math.min(Sk, window + newTokens - 1));
      expect(s.flops).toBe(4 * s.nnz * 8);
      expect(s.requiredBytes).toBe(4 * (2 * s.keysRead * 2 * 8 + 4 * newTokens * 2 * 8));
      expect(s.denseScoreBytes).toBe(4 * 4 * newTokens * Sk);
    }
  });
});

describe('effective GB/s against the measured bandwidth', () => {
  it('the headline case requires the window K and V of 8 kv heads plus q and out', () => {
    const c = makeDecodeCase(DECODE_HEADLINE);
    const s = caseStats(c, buildPattern(c), null);
    expect(s.keysRead).toBe(4096);
    // K + V: 8 heads × 4096 rows × 128 × 4 B × 2 = 32 MiB; q + out: 32 heads × 128 × 4 B × 2 = 32 KiB.
    expect(s.requiredBytes).toBe(8 * 4096 * 128 * 4 * 2 + 32 * 128 * 4 * 2);
    expect(requiredBytes(c, 4096)).toBe(33_587_200);
  });

  it('GB/s = bytes / time; the ratio = time / bandwidth-bound time', () => {
    const f = bandwidthFigures(33_587_200, 2, 20)!;
    expect(f.gbps).toBeCloseTo(16.7936, 10);
    expect(f.boundMs).toBeCloseTo(1.67936, 10);
    expect(f.ratio).toBeCloseTo(2 / 1.67936, 10);
    expect(bandwidthFigures(1e9, 0, 20)).toBeUndefined();
    expect(Number.isNaN(bandwidthFigures(1e9, 100)!.ratio)).toBe(true);
    expect(bandwidthFigures(1e9, 100)!.gbps).toBe(10);
  });

  it('score() adds GB/s and the ratio when the bandwidth is known', () => {
    const c = makeDecodeCase({ newTokens: 1, cache: 1000, window: 100, headDim: 8, headsQ: 4, headsKv: 2 });
    const stats = caseStats(c, buildPattern(c), null);
    const t = { medianMs: 0.5, minMs: 0.5, maxMs: 0.5, reps: 1, samplesMs: [0.5], rows: 1, extrapolated: false, fullMs: 0.5 };
    const r = score('x', { status: 'ok', time: t }, stats, 10);
    expect(r.gbps).toBeCloseTo(stats.requiredBytes / 0.5e6, 12);
    expect(r.bandwidthRatio).toBeCloseTo(10 / r.gbps!, 12);
    const noLimit = score('x', { status: 'ok', time: t }, stats);
    expect(noLimit.gbps).toBeCloseTo(r.gbps!, 12);
    expect(noLimit.bandwidthRatio).toBeUndefined();
  });

  it('measures copy and read bandwidth (small arrays here), the limit being the larger', () => {
    expect(sum4(Float32Array.from([1, 2, 3, 4, 5, 6, 7]))).toBe(28);
    const m = measureMemoryBandwidth(4 * 2 ** 20, 2);
    expect(m.bytes).toBe(4 * 2 ** 20);
    expect(m.copyGBps).toBeGreaterThan(0);
    expect(m.readGBps).toBeGreaterThan(0);
    expect(m.limitGBps).toBe(Math.max(m.copyGBps, m.readGBps));
    expect(m.method).toMatch(/2 runs of Float32Array\.set.*4 MiB/);
  });
});

describe('onnxruntime GroupQueryAttention decode, shared past/present buffer', () => {
  const shape = { headDim: 8, headsQ: 4, headsKv: 2, window: 6 };
  for (const newTokens of [1, 4]) {
    it(`${newTokens} new token(s) after a kv cache of 40: matches core's reference, local(w − 1, 0) bottom-right`, async () => {
      const c = makeDecodeCase({ ...shape, newTokens, cache: 40 });
      const inputs = makeInputs(c);
      const step = await gqaDecodeStep(ort, inputs, { window: c.window, scale: 1 / Math.sqrt(8), threads: 1 });
      try {
        const out = fromBshd(await step.run(), 1, newTokens, 4, 8);
        const ref = referenceAttention({ ...inputs, pattern: local(c.window - 1, 0) }).out.data;
        expect(maxErr(out, ref)).toBeLessThan(1e-5);
        // Twice in a row (the step rewrites the same rows): the same output.
        expect(maxErr(fromBshd(await step.run(), 1, newTokens, 4, 8), ref)).toBeLessThan(1e-5);
      } finally {
        await step.release();
      }
    });
  }

  it('present aliases past: the new rows are written in place, rows beyond Sk are untouched (onnxruntime-node 1.30)', async () => {
    const newTokens = 2;
    const c = makeDecodeCase({ ...shape, newTokens, cache: 30 });
    const Sk = 32;
    const capacity = 48;
    const D = 8;
    const inputs = makeInputs(c);
    const step = await gqaDecodeStep(ort, inputs, { window: c.window, scale: 1 / Math.sqrt(D), threads: 1, capacity });
    try {
      for (const cache of [step.keyCache, step.valueCache])
        for (let h = 0; h < 2; h++) {
          cache.fill(0, (h * capacity + Sk - newTokens) * D, (h * capacity + Sk) * D); // the new tokens' rows: not there yet
          cache.fill(7, (h * capacity + Sk) * D, (h + 1) * capacity * D); // sentinel beyond Sk
        }
      const out = fromBshd(await step.run(), 1, newTokens, 4, D);
      expect(maxErr(out, referenceAttention({ ...inputs, pattern: local(c.window - 1, 0) }).out.data)).toBeLessThan(1e-5);
      for (const [cache, src] of [
        [step.keyCache, inputs.k.data],
        [step.valueCache, inputs.v.data],
      ] as const)
        for (let h = 0; h < 2; h++) {
          // Written by the step (shared-buffer mode writes present = past in place)…
          expect(Array.from(cache.subarray((h * capacity + Sk - newTokens) * D, (h * capacity + Sk) * D))).toEqual(
            Array.from(src.subarray((h * Sk + Sk - newTokens) * D, (h + 1) * Sk * D)),
          );
          // …and nothing else: a separate present buffer would have been zero-filled beyond Sk.
          expect(cache.subarray((h * capacity + Sk) * D, (h + 1) * capacity * D).every((x) => x === 7)).toBe(true);
        }
    } finally {
      await step.release();
    }
  });
});

describe('onnxruntime-node 1.30 and preallocated outputs', () => {
  it('hands a fetched present output back as a new array (a copy of the cache buffer), not the caller’s', async () => {
    const D = 8;
    const Sk = 12;
    const inputs = makeInputs(makeDecodeCase({ headDim: D, headsQ: 4, headsKv: 2, window: 6, newTokens: 1, cache: Sk - 1 }));
    const session = await ort.InferenceSession.create(
      gqaDecodeModel({ headsQ: 4, headsKv: 2, headDim: D, rows: 1, capacity: Sk, localWindowSize: 6, scale: 1 / Math.sqrt(D) }),
      { logSeverityLevel: 3 },
    );
    const cache = (t: Float32Array) => new ort.Tensor('float32', t.slice(), [1, 2, Sk, D]);
    const pastKey = cache(inputs.k.data);
    const pastValue = cache(inputs.v.data);
    const r = await session.run(
      {
        query: new ort.Tensor('float32', toBshd(inputs.q), [1, 1, 4 * D]),
        key: new ort.Tensor('float32', toBshd(lastRows(inputs.k, 1)), [1, 1, 2 * D]),
        value: new ort.Tensor('float32', toBshd(lastRows(inputs.v, 1)), [1, 1, 2 * D]),
        past_key: pastKey,
        past_value: pastValue,
        seqlens_k: new ort.Tensor('int32', Int32Array.from([Sk - 1]), [1]),
        total_sequence_length: new ort.Tensor('int32', Int32Array.from([Sk]), []),
      },
      { output: null, present_key: pastKey, present_value: pastValue },
    );
    const present = r.present_key!.data as Float32Array;
    expect(present.buffer).not.toBe((pastKey.data as Float32Array).buffer);
    expect(Array.from(present)).toEqual(Array.from(pastKey.data as Float32Array));
    await session.release();
  });
});

describe('targets on a decode case (every output row checked against core’s float64 reference)', () => {
  const specs: TargetSpec[] = [
    { kind: 'backend', name: 'reference', threads: 1, label: 'reference@1t' },
    { kind: 'backend', name: 'cpu-wasm', threads: 1, label: 'cpu-wasm@1t' },
    { kind: 'backend', name: 'cpu-wasm', threads: 2, label: 'cpu-wasm@2t' },
    { kind: 'peer', name: 'plain-js', threads: 1, label: 'plain-js@1t' },
    { kind: 'peer', name: 'ort-gqa', threads: 1, label: 'ort-gqa@1t' },
    { kind: 'peer', name: 'ort-dense', threads: 1, label: 'ort-dense@1t' },
    { kind: 'peer', name: 'tfjs-wasm-dense', threads: 1, label: 'tfjs-wasm-dense@1t' },
  ];
  for (const spec of specs) {
    it(`${spec.label}: Sq 1 and 4 after a kv cache of 200, window 24, in full`, async () => {
      const target = await createTarget(spec);
      try {
        for (const newTokens of [1, 4]) {
          const c = makeDecodeCase({ newTokens, cache: 200, window: 24, headDim: 16, headsQ: 4, headsKv: 2 });
          const r = await target.run(context(c, sampler));
          expect(r.status, r.reason).toBe('ok');
          expect(r.time!.rows).toBe(newTokens);
          expect(r.time!.extrapolated).toBe(false);
          expect(r.check!.rows).toBe(4 * newTokens);
          expect(r.check!.ok).toBe(true);
          if (spec.name === 'ort-gqa') expect(r.notes?.[0]).toMatch(/past_present_share_buffer/);
          if (spec.name === 'cpu-wasm') expect(r.notes).toEqual([expect.stringMatching(/^attention\(request\) per step/)]);
        }
      } finally {
        await target.dispose();
      }
    });
  }
});

describe('decode flags', () => {
  it('--suite, --decode-grid, --sq and --cache', () => {
    expect(parseArgs([]).suite).toBeNull();
    expect(parseArgs(['--suite', 'decode']).suite).toBe('decode');
    expect(() => parseArgs(['--suite', 'train'])).toThrow(UsageError);
    expect(() => parseArgs(['--decode-grid=yes'])).toThrow(/takes no value/);
    expect(parseArgs(['--sq', '1,16', '--cache=4096,32768'])).toMatchObject({ sq: [1, 16], cache: [4096, 32768] });
    for (const flag of ['--suite', '--decode-grid', '--sq', '--cache']) expect(USAGE).toContain(flag);
  });

  it('the full default run has prefill, the decode subset with the headline case, and short prefill', () => {
    const plan = makePlan(parseArgs([]));
    expect(plan.suite).toBe('all');
    const ids = plan.cases.map((c) => c.id);
    expect(ids).toContain('decode/Sq1/kv32768/w4096/D128/H32:8');
    expect(ids).toContain('decode/Sq16/kv32768/w4096/D128/H32:8');
    expect(ids).toContain('causal-sliding/N1024/D128/H32:8/w256');
    expect(ids).toContain('causal-sliding/N2048/D128/H32:8/w256');
    expect(ids).toContain('sliding/N65536/D64/H8:8/w512');
    // Decode cases come after the prefill ones.
    const first = plan.cases.findIndex(isDecode);
    expect(plan.cases.slice(first).every(isDecode)).toBe(true);
  });

  it('--quick stays prefill; --quick --suite decode is the headline pair and short prefill', () => {
    expect(makePlan(parseArgs(['--quick'])).cases.some(isDecode)).toBe(false);
    const plan = makePlan(parseArgs(['--quick', '--suite', 'decode']));
    expect(plan.cases.map((c) => c.id)).toEqual([
      'causal-sliding/N1024/D128/H32:8/w256',
      'causal-sliding/N2048/D128/H32:8/w256',
      'decode/Sq1/kv32768/w4096/D128/H32:8',
      'decode/Sq16/kv32768/w4096/D128/H32:8',
    ]);
  });

  it('--decode-grid alone is the decode suite: the grid and short prefill at D = 64 and 128', () => {
    const plan = makePlan(parseArgs(['--decode-grid']));
    expect(plan.suite).toBe('decode');
    expect(plan.cases).toHaveLength(92 + 4);
    expect(makePlan(parseArgs(['--decode-grid', '--suite', 'all'])).cases.length).toBeGreaterThan(96);
  });

  it('--sq / --cache make a cross product with --windows, --d and --heads', () => {
    const plan = makePlan(parseArgs(['--sq', '1,16', '--cache', '4096,8192', '--windows', '1024', '--d', '64', '--heads', '16:4']));
    expect(plan.suite).toBe('decode');
    expect(plan.cases.map((c) => c.id)).toEqual([
      'decode/Sq1/kv4096/w1024/D64/H16:4',
      'decode/Sq1/kv8192/w1024/D64/H16:4',
      'decode/Sq16/kv4096/w1024/D64/H16:4',
      'decode/Sq16/kv8192/w1024/D64/H16:4',
    ]);
    expect(makePlan(parseArgs(['--cache', '4096'])).cases.map((c) => c.id)).toEqual(['decode/Sq1/kv4096/w4096/D128/H32:8']);
    // --n with --sq: both suites.
    const both = makePlan(parseArgs(['--n', '1024', '--sq', '1', '--patterns', 'sliding']));
    expect(both.cases.map((c) => c.id)).toEqual(['sliding/N1024/D64/H8:8/w512', 'decode/Sq1/kv32768/w4096/D128/H32:8']);
  });
});

describe('decode in the report', () => {
  const record = (cache: number, ms: Record<string, number>): CaseRecord => {
    const c = makeDecodeCase({ ...DECODE_HEADLINE, cache });
    const stats = caseStats(c, buildPattern(c), null);
    return {
      case: c,
      description: describeCase(c),
      stats,
      results: Object.entries(ms).map(([target, t]) =>
        score(target, { status: 'ok', time: { medianMs: t, minMs: t, maxMs: t, reps: 1, samplesMs: [t], rows: 1, extrapolated: false, fullMs: t } }, stats, 20),
      ),
    };
  };
  const records = [record(4096, { 'cpu-wasm@1t': 4, 'ort-gqa@1t': 40 }), record(32768, { 'cpu-wasm@1t': 5, 'ort-gqa@1t': 200, 'ort-gqa@2t': 150 })];

  it('a time-vs-kv-cache chart per decode family, and no prefill chart from decode cases', () => {
    expect(buildCharts(records).map((c) => c.name)).toEqual(['decode-time-Sq1-D128-H32-8-w4096.svg']);
  });

  it('the decode headline: GB/s, distance to the bandwidth limit, and the backend against each peer at its thread count', () => {
    const lines = decodeHeadline(records).join('\n');
    expect(lines).toContain('`decode/Sq1/kv32768/w4096/D128/H32:8`');
    // 33 587 200 B in 5 ms = 6.72 GB/s; at 20 GB/s that takes 1.68 ms: ≈ 3.0× the limit.
    expect(lines).toContain('cpu-wasm@1t: 5.00 ms, 6.72 GB/s, ≈ 3.0× the bandwidth limit');
    expect(lines).toContain('cpu-wasm@1t: 40.0× faster than ort-gqa@1t');
    expect(lines).not.toContain('than ort-gqa@2t');
    // A decode-only run says nothing about the prefill headline cases.
    expect(headlines(records, []).join('\n')).not.toContain('sliding window');
  });
});

describe('decode end to end', () => {
  let out: string;
  beforeAll(() => {
    ensureBuilt();
    out = mkdtempSync(join(tmpdir(), 'sparse-bench-decode-'));
  }, 60_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('measures the bandwidth, reports GB/s and the ratio to it, and writes a Decode section', () => {
    execFileSync(
      process.execPath,
      [
        mainJs,
        '--quick',
        '--backends',
        'reference',
        '--peers',
        'ort-gqa,plain-js',
        '--sq',
        '1,4',
        '--cache',
        '128',
        '--windows',
        '16',
        '--d',
        '8',
        '--heads',
        '4:2',
        '--threads',
        '1',
        '--out',
        out,
      ],
      { encoding: 'utf8', timeout: 55_000 },
    );
    const data = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as BenchOutput;
    const bw = data.machine.memoryBandwidth!;
    expect(bw.limitGBps).toBeGreaterThan(0);
    expect(data.cases.map((c) => c.case.id)).toEqual(['decode/Sq1/kv128/w16/D8/H4:2', 'decode/Sq4/kv128/w16/D8/H4:2']);
    for (const c of data.cases)
      for (const r of c.results) {
        expect(r.status, `${r.target}: ${r.reason}`).toBe('ok');
        expect(r.check?.ok).toBe(true);
        expect(r.gbps).toBeCloseTo(c.stats.requiredBytes / (r.timeMs! * 1e6), 9);
        expect(r.bandwidthRatio).toBeCloseTo(bw.limitGBps / r.gbps!, 9);
      }
    const md = readFileSync(join(out, 'latest.md'), 'utf8');
    expect(md).toContain('## Decode');
    expect(md).toContain('Memory bandwidth: copy');
    expect(md).not.toContain('## Results by pattern');
  }, 60_000);
});
