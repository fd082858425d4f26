import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuWasm } from '@sparse/cpu-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../src/args.js';
import { checkOutput } from '../src/check.js';
import { makePlan } from '../src/config.js';
import { isBackendLabel } from '../src/report/charts.js';
import { decodeHeadline } from '../src/report/headlines.js';
import type { BenchOutput } from '../src/report/write.js';
import { score } from '../src/score.js';
import { caseStats } from '../src/stats.js';
import { kvCacheCall, kvCacheLayout } from '../src/targets/calls.js';
import { createTarget } from '../src/targets/registry.js';
import type { CaseRecord, TargetSpec } from '../src/types.js';
import { buildPattern, DECODE_HEADLINE, describeCase, makeCase, makeDecodeCase } from '../src/workloads.js';
import { context, ensureBuilt, mainJs, RssSampler } from './helpers.js';

const sampler = new RssSampler();
afterAll(() => sampler.dispose());

const spec = (threads: number): TargetSpec => ({ kind: 'backend', name: 'cpu-wasm', threads, label: `cpu-wasm kv-cache@${threads}t`, variant: 'kv-cache' });

describe('cpu-wasm kv-cache: the cache resident in the backend', () => {
  it('a ring of w + Sq positions when the window does not reach position 0, else a plain cache of Sk', () => {
    expect(kvCacheLayout(makeDecodeCase(DECODE_HEADLINE))).toEqual({ ring: true, capacity: 4097, window: 4096 });
    expect(kvCacheLayout(makeDecodeCase({ ...DECODE_HEADLINE, newTokens: 16, cache: 4096 }))).toEqual({ ring: true, capacity: 4112, window: 4096 });
    expect(kvCacheLayout(makeDecodeCase({ ...DECODE_HEADLINE, cache: 2048 }))).toEqual({ ring: false, capacity: 2049 });
  });

  for (const threads of [1, 2])
    for (const window of [24, 256])
      it(`${spec(threads).label}: Sq 1 and 4 after a kv cache of 200, window ${window}, over several steps: every row matches core's reference`, async () => {
        const target = await createTarget(spec(threads));
        try {
          expect(target.info.label).toBe(`cpu-wasm kv-cache@${threads}t`);
          for (const newTokens of [1, 4]) {
            const c = makeDecodeCase({ newTokens, cache: 200, window, headDim: 16, headsQ: 4, headsKv: 2 });
            // One warm-up and four timed steps: the last one's output is checked, after four truncations.
            const r = await target.run(context(c, sampler, { timing: { warmup: 1, minReps: 4, maxReps: 4, minTimeMs: 0 } }));
            expect(r.status, r.reason).toBe('ok');
            expect(r.time!.reps).toBe(4);
            expect(r.time!.rows).toBe(newTokens);
            expect(r.check!.rows).toBe(4 * newTokens);
            expect(r.check!.ok).toBe(true);
            expect(r.notes).toEqual([expect.stringMatching(/^kv cache resident in the backend/)]);
          }
        } finally {
          await target.dispose();
        }
      });

  it('every step does the same work: after truncate() the next step gives the first step’s output bit for bit, and the reference’s', async () => {
    const backend = cpuWasm({ threads: 1 });
    try {
      // Sq = 3 over a ring whose slots (capacity rounded up to the key tile) exceed w + Sq, and over a plain cache.
      for (const window of [40, 400]) {
        const c = makeDecodeCase({ newTokens: 3, cache: 300, window, headDim: 8, headsQ: 4, headsKv: 2 });
        const ctx = context(c, sampler);
        const request = { ...ctx.inputs, pattern: buildPattern(c) };
        const p = await kvCacheCall.prepare(backend, request, ctx);
        const outs: Float32Array[] = [];
        for (let step = 0; step < 6; step++) {
          await p.before?.();
          outs.push((await p.call()).out.data);
        }
        await p.release?.();
        expect(checkOutput(request, outs[0]!, 1000).ok).toBe(true);
        for (const o of outs) expect(o).toEqual(outs[0]);
        expect(backend.liveResident()).toBe(0);
      }
    } finally {
      await backend.dispose();
    }
  });

  it('runs decode workloads only: n/a on prefill, and not in a plan without decode or without cpu-wasm', async () => {
    const target = await createTarget(spec(1));
    try {
      const r = await target.run(context(makeCase('causal-sliding', { seq: 64, headDim: 8, headsQ: 2, headsKv: 2, window: 16 }), sampler));
      expect(r).toMatchObject({ status: 'n/a', reason: expect.stringMatching(/decode workloads only/) });
    } finally {
      await target.dispose();
    }
    const labels = (args: string[]) => makePlan(parseArgs(args)).specs.map((s) => s.label);
    expect(labels(['--suite', 'decode', '--threads', '1,2', '--peers', 'ort-gqa'])).toEqual([
      'reference@1t',
      'cpu-wasm@1t',
      'cpu-wasm@2t',
      'cpu-wasm kv-cache@1t',
      'cpu-wasm kv-cache@2t',
      'webgpu',
      'cuda-native',
      'tfjs@1t',
      'ort-gqa@1t',
      'ort-gqa@2t',
    ]);
    expect(labels(['--quick', '--threads', '1,2']).some((l) => l.includes('kv-cache'))).toBe(false);
    expect(labels(['--suite', 'decode', '--backends', 'webgpu']).some((l) => l.includes('kv-cache'))).toBe(false);
  });

  it('is reported beside cpu-wasm (host attention()) and the peers: decode table, ratios and headline', () => {
    const c = makeDecodeCase(DECODE_HEADLINE);
    const stats = caseStats(c, buildPattern(c), null);
    const ok = (target: string, t: number) =>
      score(target, { status: 'ok', time: { medianMs: t, minMs: t, maxMs: t, reps: 1, samplesMs: [t], rows: 1, extrapolated: false, fullMs: t } }, stats, 20);
    const records: CaseRecord[] = [
      {
        case: c,
        description: describeCase(c),
        stats,
        results: [ok('cpu-wasm@1t', 8), ok('cpu-wasm kv-cache@1t', 2), ok('ort-gqa@1t', 4)],
      },
    ];
    const lines = decodeHeadline(records).join('\n');
    // 33 587 200 B in 2 ms = 16.8 GB/s; at 20 GB/s that takes 1.68 ms: ≈ 1.2× the limit.
    expect(lines).toContain('cpu-wasm kv-cache@1t: 2.00 ms, 16.8 GB/s, ≈ 1.2× the bandwidth limit');
    expect(lines).toContain('cpu-wasm kv-cache@1t: 4.00× faster than cpu-wasm@1t; 2.00× faster than ort-gqa@1t');
    expect(lines).toContain('cpu-wasm@1t: 2.00× slower than ort-gqa@1t');
    // A backend (solid in the charts, a row of the ratio table), not a peer.
    expect(isBackendLabel('cpu-wasm kv-cache@2t')).toBe(true);
  });
});

describe('cpu-wasm kv-cache end to end', () => {
  let out: string;
  beforeAll(() => {
    ensureBuilt();
    out = mkdtempSync(join(tmpdir(), 'sparse-bench-kv-cache-'));
  }, 60_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('has a row in the decode cases only, checked against the reference', () => {
    const args = ['--quick', '--backends', 'cpu-wasm', '--peers', 'none', '--n', '128', '--patterns', 'causal-sliding', '--windows', '16'];
    const decode = ['--sq', '1', '--cache', '128', '--d', '8', '--heads', '4:2', '--threads', '1', '--out', out];
    execFileSync(process.execPath, [mainJs, ...args, ...decode], { encoding: 'utf8', timeout: 55_000 });
    const data = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as BenchOutput;
    const rows = data.cases.map((c) => [c.case.id, c.results.map((r) => r.target)]);
    expect(rows).toEqual([
      ['causal-sliding/N128/D8/H4:2/w16', ['cpu-wasm@1t']],
      ['decode/Sq1/kv128/w16/D8/H4:2', ['cpu-wasm@1t', 'cpu-wasm kv-cache@1t']],
    ]);
    const kv = data.cases[1]!.results[1]!;
    expect(kv.status, kv.reason).toBe('ok');
    expect(kv.check?.ok).toBe(true);
    expect(kv.gbps).toBeGreaterThan(0);
    const md = readFileSync(join(out, 'latest.md'), 'utf8');
    // The decode table, and the ratio table against cpu-wasm's host attention() at the same threads.
    expect(md).toMatch(/\| decode\/Sq1\/kv128\/w16\/D8\/H4:2 \| cpu-wasm kv-cache@1t \| [\d.]+ ms \|/);
    expect(md).toContain('| case | backend | time | vs cpu-wasm (host attention()) |');
    expect(md).toMatch(/\| cpu-wasm kv-cache@1t \| [\d.]+ ms \| [\d.]+× \|/);
  }, 60_000);
});
