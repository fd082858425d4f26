import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../src/args.js';
import { makePlan } from '../src/config.js';
import type { BenchOutput } from '../src/report/write.js';
import { ensureBuilt, mainJs as main } from './helpers.js';

describe('arguments', () => {
  it('parses lists, heads and peers given to --backends', () => {
    const o = parseArgs(['--quick', '--backends', 'reference,ort-dense', '--n', '256,512', '--heads', '8,32:8', '--threads=1,2']);
    expect(o.backends).toEqual(['reference']);
    expect(o.peers).toEqual(['ort-dense']);
    expect(o.heads).toEqual([
      { q: 8, kv: 8 },
      { q: 32, kv: 8 },
    ]);
    const plan = makePlan(o);
    expect(plan.cases).toHaveLength(2 * 2 * 7);
    expect(plan.specs.map((s) => s.label)).toEqual(['reference@1t', 'ort-dense@1t', 'ort-dense@2t']);
  });

  it('rejects unknown names with the list of known ones', () => {
    expect(() => parseArgs(['--backends', 'gpu'])).toThrow(UsageError);
    expect(() => parseArgs(['--patterns', 'sliding,nope'])).toThrow(/unknown pattern "nope"/);
    expect(() => parseArgs(['--heads', '8:3'])).toThrow(/Hkv dividing Hq/);
  });

  it('the quick preset stays small and includes the cpu-wasm headline case (sliding window, N = 16384)', () => {
    const plan = makePlan(parseArgs(['--quick']));
    expect(plan.cases.length).toBeLessThanOrEqual(16);
    expect(plan.cases.some((c) => c.id === 'sliding/N16384/D64/H8:8/w512')).toBe(true);
  });
});

describe('CLI smoke run', () => {
  let out: string;
  beforeAll(() => {
    ensureBuilt();
    out = mkdtempSync(join(tmpdir(), 'sparse-bench-'));
  }, 60_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('runs a tiny --quick sweep, reports missing backends as such and writes JSON, Markdown and SVG', () => {
    const stdout = execFileSync(
      process.execPath,
      [main, '--quick', '--backends', 'reference,cuda-native', '--n', '128,256', '--patterns', 'sliding,causal-sliding,topk', '--windows', '32', '--out', out],
      { encoding: 'utf8', timeout: 55_000 },
    );
    expect(stdout).toContain('sliding/N256/D64/H8:8/w32');
    const files = readdirSync(out);
    const json = files.find((f) => /^\d{4}-.*Z\.json$/.test(f))!;
    expect(json).toBeDefined();
    expect(files).toContain('latest.md');
    expect(files).toContain(json.replace('.json', '.md'));
    expect(files.filter((f) => f.endsWith('.svg')).length).toBeGreaterThanOrEqual(3);

    const data = JSON.parse(readFileSync(join(out, json), 'utf8')) as BenchOutput;
    expect(data.machine.cpuModel).toBeTruthy();
    expect(data.machine.node).toBe(process.version);
    expect(data.cases).toHaveLength(6);
    const labels = data.targets.map((t) => t.label);
    expect(labels).toEqual(expect.arrayContaining(['reference@1t', 'cuda-native', 'plain-js@1t', 'tfjs-wasm-dense@1t']));
    expect(labels.some((l) => l.startsWith('ort-dense@'))).toBe(true);
    // A backend that cannot run here is in the table with its reason, never dropped.
    const cuda = data.targets.find((t) => t.label === 'cuda-native')!;
    if (!cuda.available) {
      expect(cuda.reason).toBeTruthy();
      for (const c of data.cases) expect(c.results.find((r) => r.target === 'cuda-native')?.status).toBe('unavailable');
    }
    for (const c of data.cases) {
      expect(c.results.map((r) => r.target)).toEqual(labels);
      const ref = c.results.find((r) => r.target === 'reference@1t')!;
      expect(ref.status, ref.reason).toBe('ok');
      expect(ref.gflops).toBeGreaterThan(0);
      expect(ref.check?.ok).toBe(true);
      expect(ref.speedup).toBeGreaterThan(0);
      expect(ref.eta).toBeCloseTo(ref.speedup! * c.stats.density, 10);
      const gqa = c.results.find((r) => r.target.startsWith('ort-gqa'))!;
      expect(gqa.status).toBe(c.case.pattern === 'causal-sliding' ? 'ok' : 'n/a');
    }
    const md = readFileSync(join(out, 'latest.md'), 'utf8');
    expect(md).toContain('# Sparse attention benchmark');
    expect(md).toContain('cuda-native');
    expect(md).toMatch(/!\[[^\]]+\]\([^)]+\.svg\)/);
  }, 60_000);
});
