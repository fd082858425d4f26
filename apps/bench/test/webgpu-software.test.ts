import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgs, USAGE, UsageError } from '../src/args.js';
import { makePlan } from '../src/config.js';
import { headlines } from '../src/report/headlines.js';
import { markdownReport } from '../src/report/markdown.js';
import { row } from '../src/report/table.js';
import type { BenchOutput } from '../src/report/write.js';
import { SOFTWARE_PENDING, softwareNotice } from '../src/software.js';
import { caseStats } from '../src/stats.js';
import type { CaseRecord, TargetInfo } from '../src/types.js';
import { buildPattern, describePattern, makeCase } from '../src/workloads.js';
import { ensureBuilt, mainJs } from './helpers.js';

const SWIFTSHADER = 'google swiftshader swiftshader-device-subzero- (SwiftShader driver 5.0.0), fallback adapter (software)';
const NOTICE = 'software adapter (SwiftShader) — not a GPU figure';

describe('--webgpu-software', () => {
  it('is off by default: the webgpu target is the plain one', () => {
    const o = parseArgs(['--backends', 'webgpu,cpu-wasm', '--threads', '2']);
    expect(o.webgpuSoftware).toBe(false);
    const specs = makePlan(o).specs;
    // The default suite has decode cases, so cpu-wasm also runs with its kv cache resident.
    expect(specs.map((s) => s.label)).toEqual([
      'webgpu',
      'cpu-wasm@2t',
      'cpu-wasm kv-cache@2t',
      'ort-dense@2t',
      'ort-gqa@2t',
      'tfjs-wasm-dense@1t',
      'plain-js@1t',
    ]);
    expect(specs.some((s) => s.software)).toBe(false);
    expect(makePlan(o).sweep.join('\n')).not.toContain('webgpu@software');
  });

  it('creates the webgpu target with software: true under its own label, and only that target', () => {
    const o = parseArgs(['--backends', 'webgpu,cpu-wasm', '--peers', 'none', '--threads', '1,2', '--webgpu-software']);
    expect(o.webgpuSoftware).toBe(true);
    const plan = makePlan(o);
    expect(plan.sweep.join('\n')).toMatch(/webgpu@software: .*not GPU figures/);
    const specs = plan.specs;
    expect(specs).toEqual([
      { kind: 'backend', name: 'webgpu', threads: null, label: 'webgpu@software', software: true },
      { kind: 'backend', name: 'cpu-wasm', threads: 1, label: 'cpu-wasm@1t' },
      { kind: 'backend', name: 'cpu-wasm', threads: 2, label: 'cpu-wasm@2t' },
      { kind: 'backend', name: 'cpu-wasm', threads: 1, label: 'cpu-wasm kv-cache@1t', variant: 'kv-cache' },
      { kind: 'backend', name: 'cpu-wasm', threads: 2, label: 'cpu-wasm kv-cache@2t', variant: 'kv-cache' },
    ]);
    // Without webgpu among the targets the flag changes nothing.
    expect(makePlan(parseArgs(['--backends', 'cpu-wasm', '--webgpu-software'])).specs.some((s) => s.name === 'webgpu')).toBe(false);
    expect(() => parseArgs(['--webgpu-software=yes'])).toThrow(UsageError);
    expect(USAGE).toContain('--webgpu-software');
  });

  it('names a software adapter as such, and says so when the adapter turns out to be hardware', () => {
    expect(softwareNotice(SWIFTSHADER)).toEqual({ softwareAdapter: true, notice: NOTICE });
    expect(softwareNotice('mesa llvmpipe (LLVM 15.0.6, 256 bits)')).toEqual({
      softwareAdapter: true,
      notice: 'software adapter (mesa llvmpipe (LLVM 15.0.6, 256 bits)) — not a GPU figure',
    });
    const hw = softwareNotice('nvidia hopper (NVIDIA H100 80GB HBM3)');
    expect(hw.softwareAdapter).toBe(false);
    expect(hw.notice).toMatch(/hardware adapter was found/);
  });

  it('marks the report: targets table, every row, and the webgpu headline is not judged against the GPU goal', () => {
    const c = makeCase('sliding', { seq: 16384, headDim: 64, headsQ: 1, headsKv: 1, window: 512 });
    const stats = caseStats(c, buildPattern(c), null);
    const timing = (ms: number, rows = 16384) => ({
      medianMs: ms,
      minMs: ms,
      maxMs: ms,
      reps: 3,
      samplesMs: [ms, ms, ms],
      rows,
      extrapolated: rows < 16384,
      fullMs: rows < 16384 ? (ms * 16384) / rows : ms,
    });
    const targets: TargetInfo[] = [
      {
        label: 'webgpu@software',
        name: 'webgpu',
        kind: 'backend',
        available: true,
        threads: null,
        description: 'WGSL kernels',
        device: SWIFTSHADER,
        notice: NOTICE,
        extra: { softwareAdapter: true },
      },
      { label: 'cpu-wasm@2t', name: 'cpu-wasm', kind: 'backend', available: true, threads: 2, description: 'wasm' },
    ];
    const record: CaseRecord = {
      case: c,
      description: describePattern(c.pattern, c.window),
      stats,
      results: [
        { target: 'webgpu@software', status: 'ok', time: timing(5000), dense: timing(1400, 128), timeMs: 5000, eta: 5.6, speedup: 35, notes: [NOTICE] },
        { target: 'webgpu@software', status: 'skipped', reason: 'sparse run: estimated 200 s', notes: [NOTICE] },
        { target: 'cpu-wasm@2t', status: 'ok', time: timing(100), timeMs: 100 },
      ],
    };
    const md = markdownReport({
      title: 't',
      startedAt: '2026-01-01T00:00:00Z',
      durationS: 1,
      command: 'x',
      quick: false,
      sweep: [],
      machine: {
        cpuModel: 'cpu',
        logicalCores: 2,
        availableParallelism: 2,
        memoryBytes: 2 ** 30,
        node: process.version,
        v8: '',
        os: '',
        arch: '',
        loadAverageStart: 0,
        hostname: '',
      },
      targets,
      records: [record],
      charts: [],
      jsonFile: 'x.json',
    });
    const lines = md.split('\n');
    expect(lines.find((l) => l.startsWith('| webgpu@software | library backend'))).toContain(NOTICE);
    const rows = lines.filter((l) => /^\| 16384 \| 64 \| 1 \| 512 \| webgpu@software /.test(l));
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(r).toContain(NOTICE);
    for (const r of record.results.filter((x) => x.target === 'webgpu@software')) expect(row(r)).toContain(NOTICE);

    const head = headlines([record], targets).join('\n');
    expect(head).toContain(`**webgpu, sliding window** — sliding, B=1, H=1, N=16384`);
    expect(head).toContain(NOTICE);
    expect(head).toContain('η against its own dense WGSL kernel = 5.6');
    expect(head).toMatch(/webgpu 50(\.0)?× slower \(software adapter\)/);
    expect(head.split('**webgpu, sliding window**')[1]!.split('**tfjs')[0]).not.toMatch(/meets the goal|below the goal/);
  });
});

describe('--webgpu-software end to end', () => {
  let out: string;
  beforeAll(() => {
    ensureBuilt();
    out = mkdtempSync(join(tmpdir(), 'sparse-bench-sw-'));
  }, 60_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('runs webgpu with { software: true } and marks every one of its figures in the JSON', () => {
    const stdout = execFileSync(
      process.execPath,
      [
        mainJs,
        '--quick',
        '--backends',
        'webgpu',
        '--peers',
        'none',
        '--patterns',
        'sliding',
        '--n',
        '64,256',
        '--windows',
        '16',
        '--heads',
        '1',
        '--webgpu-software',
        // What this checks is the marking, not the time: a loaded machine must not push SwiftShader's first
        // (compiling) call past --quick's 2 s budget and skip the case.
        '--max-run',
        '40',
        '--out',
        out,
      ],
      { encoding: 'utf8', timeout: 55_000 },
    );
    expect(stdout).toContain('webgpu@software');
    const data = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as BenchOutput;
    const target = data.targets.find((t) => t.label === 'webgpu@software')!;
    expect(target).toBeDefined();
    const results = data.cases.map((c) => c.results.find((r) => r.target === 'webgpu@software')!);
    expect(results).toHaveLength(2);
    if (target.available) {
      // This machine has a WebGPU adapter: the software one (SwiftShader) unless it has a GPU.
      const expected = softwareNotice(target.device);
      expect(target.notice).toBe(expected.notice);
      expect(target.extra?.softwareAdapter).toBe(expected.softwareAdapter);
      for (const r of results) {
        expect(r.status, r.reason).toBe('ok');
        expect(r.check?.ok).toBe(true);
        expect(r.notes?.[0]).toBe(expected.notice);
      }
      if (expected.softwareAdapter) expect(readFileSync(join(out, 'latest.md'), 'utf8')).toContain('not a GPU figure');
    } else {
      // No adapter at all (no SwiftShader installed): listed with its reason, and still marked. CI must have one.
      if (process.env.CI === 'true') throw new Error(`CI=true requires a WebGPU adapter (run tools/setup-system.sh): ${target.reason}`);
      console.warn(`@sparse/bench: no WebGPU adapter, so the webgpu figures are not checked, only the unavailable target. ${target.reason}`);
      expect(target.reason).toBeTruthy();
      expect(target.notice).toBe(SOFTWARE_PENDING);
      for (const r of results) {
        expect(r.status).toBe('unavailable');
        expect(r.notes).toContain(SOFTWARE_PENDING);
      }
    }
  }, 60_000);
});
