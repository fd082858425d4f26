import { availableParallelism } from 'node:os';
import type { CliOptions, Suite } from './args.js';
import { BACKEND_NAMES, type ChildSettings, PEER_NAMES, type TargetSpec } from './types.js';
import {
  type BenchCase,
  DECODE_HEADLINE,
  DECODE_HEADS,
  decodeDefault,
  decodeGrid,
  isDecode,
  makeCase,
  makeDecodeCase,
  PATTERN_NAMES,
  type PatternName,
  type Shape,
  shortPrefill,
} from './workloads.js';

/** Targets that take a thread count (measured once per --threads value); the others run once. */
const THREADED = new Set(['cpu-wasm', 'ort-dense', 'ort-gqa']);
/** Single-threaded by construction (the label says 1t). */
const SINGLE = new Set(['reference', 'plain-js', 'tfjs', 'tfjs-wasm-dense']);

export interface BenchPlan {
  quick: boolean;
  suite: Suite;
  cases: BenchCase[];
  specs: TargetSpec[];
  settings: ChildSettings;
  caseTimeoutMs: number;
  initTimeoutMs: number;
  threads: number[];
  outDir: string;
  /** What the sweep is, in words, for the report. */
  sweep: string[];
}

function cross(patterns: readonly PatternName[], ns: number[], ds: number[], heads: { q: number; kv: number }[], windows: number[]): BenchCase[] {
  const out: BenchCase[] = [];
  for (const seq of ns)
    for (const headDim of ds)
      for (const h of heads)
        for (const window of windows) for (const p of patterns) out.push(makeCase(p, { seq, headDim, headsQ: h.q, headsKv: h.kv, window }));
  return out;
}

function presetCases(quick: boolean, patterns: readonly PatternName[]): { cases: BenchCase[]; sweep: string[] } {
  const has = (p: PatternName) => patterns.includes(p);
  const base = { headDim: 64, headsQ: 8, headsKv: 8 };
  const cases: BenchCase[] = [];
  const sweep: string[] = [];
  const add = (p: PatternName, s: Shape) => has(p) && cases.push(makeCase(p, s));
  if (quick) {
    sweep.push(
      'every pattern at N = 1024 and 4096, D = 64, H = 8, w = 256',
      'causal sliding window with GQA 4:1 (H = 8:2) at N = 4096',
      'the cpu-wasm headline case: sliding L = R = 256 (w = 512) at N = 16384',
    );
    for (const seq of [1024, 4096]) for (const p of patterns) add(p, { ...base, seq, window: 256 });
    add('causal-sliding', { seq: 4096, headDim: 64, headsQ: 8, headsKv: 2, window: 256 });
    add('sliding', { ...base, seq: 16384, window: 512 });
  } else {
    sweep.push(
      'scaling: every pattern at N = 1024, 4096, 16384, 65536; D = 64, H = 8, w = 512 (sliding: L = R = 256)',
      'head dim: sliding, causal sliding and Longformer at D = 128, N = 16384',
      'windows: sliding at N = 16384 with w = 64, 256, 2048; causal sliding with w = 128, 2048',
      'heads: sliding at N = 16384 with H = 16; sliding and causal sliding with H = 32:8 (GQA 4:1)',
      'tf.js against tf.js dense: sliding w = 256 (L = R = 128) at N = 4096, 16384 and 32768',
    );
    for (const seq of [1024, 4096, 16384, 65536]) for (const p of patterns) add(p, { ...base, seq, window: 512 });
    for (const p of ['sliding', 'causal-sliding', 'longformer'] as const) add(p, { ...base, headDim: 128, seq: 16384, window: 512 });
    for (const window of [64, 256, 2048]) add('sliding', { ...base, seq: 16384, window });
    for (const window of [128, 2048]) add('causal-sliding', { ...base, seq: 16384, window });
    add('sliding', { ...base, headsQ: 16, headsKv: 16, seq: 16384, window: 512 });
    for (const p of ['sliding', 'causal-sliding'] as const) add(p, { ...base, headsQ: 32, headsKv: 8, seq: 16384, window: 512 });
    for (const seq of [4096, 32768]) add('sliding', { ...base, seq, window: 256 });
  }
  const seen = new Set<string>();
  return { cases: cases.filter((c) => !seen.has(c.id) && seen.add(c.id)), sweep };
}

function order(cases: BenchCase[]): BenchCase[] {
  const rank = (p: PatternName) => PATTERN_NAMES.indexOf(p);
  const prefill = cases.filter((c) => !isDecode(c));
  // Decode after prefill; cases with the same inputs (Sq, kv cache, D, heads) next to each other.
  const decode = cases.filter(isDecode);
  return [
    ...prefill.sort(
      (a, b) =>
        a.seq - b.seq || a.headDim - b.headDim || a.headsQ - b.headsQ || b.headsKv - a.headsKv || a.window - b.window || rank(a.pattern) - rank(b.pattern),
    ),
    ...decode.sort(
      (a, b) => a.queries! - b.queries! || a.headDim - b.headDim || a.headsQ - b.headsQ || b.headsKv - a.headsKv || a.seq - b.seq || a.window - b.window,
    ),
  ];
}

/** Which suites a run has (see --suite in USAGE). */
export function chooseSuite(o: CliOptions): Suite {
  if (o.suite) return o.suite;
  if (o.sq || o.cache || o.decodeGrid) return o.n ? 'all' : 'decode';
  return o.quick || o.n || o.d || o.heads || o.windows ? 'prefill' : 'all';
}

function decodeCases(o: CliOptions): { cases: BenchCase[]; sweep: string[] } {
  const h = DECODE_HEADLINE;
  const sp = 'short prefill: causal window w = 256 at N = 1024 and 2048';
  if (o.sq || o.cache) {
    const sqs = o.sq ?? [h.newTokens];
    const caches = o.cache ?? [h.cache];
    const windows = o.windows ?? [h.window];
    const ds = o.d ?? [h.headDim];
    const heads = o.heads ?? [{ q: h.headsQ, kv: h.headsKv }];
    const cases: BenchCase[] = [];
    for (const newTokens of sqs)
      for (const cache of caches)
        for (const window of windows)
          for (const headDim of ds) for (const hd of heads) cases.push(makeDecodeCase({ newTokens, cache, window, headDim, headsQ: hd.q, headsKv: hd.kv }));
    const hs = heads.map((x) => (x.q === x.kv ? x.q : `${x.q}:${x.kv}`)).join(', ');
    return {
      cases,
      sweep: [`decode: Sq ${sqs.join(', ')} × kv cache ${caches.join(', ')} × w ${windows.join(', ')} × D ${ds.join(', ')} × H ${hs}`],
    };
  }
  const heads = `H = ${DECODE_HEADS.q}:${DECODE_HEADS.kv}`;
  if (o.decodeGrid)
    return {
      cases: [...decodeGrid(), ...shortPrefill([64, 128])],
      sweep: [`decode grid: Sq 1, 16 × kv cache 4096 … 131072 × causal window 1024 … 8192 (w ≤ cache) × D 64, 128, ${heads}`, `${sp}, D = 64, 128, ${heads}`],
    };
  if (o.quick)
    return {
      cases: [makeDecodeCase(h), makeDecodeCase({ ...h, newTokens: 16 }), ...shortPrefill([128])],
      sweep: [`decode: 1 and 16 new tokens after a kv cache of 32768, causal window 4096, D = 128, ${heads}`, `${sp}, D = 128, ${heads}`],
    };
  return {
    cases: [...decodeDefault(), ...shortPrefill([128])],
    sweep: [
      `decode (--decode-grid for the full grid): 1 new token after a kv cache of 32768, causal window 4096, D = 128, ${heads}; the same with 16 new tokens; kv cache 4096 and 131072; windows 1024 and 8192; D = 64`,
      `${sp}, D = 128, ${heads}`,
    ],
  };
}

export function makePlan(o: CliOptions): BenchPlan {
  const quick = o.quick;
  const cores = availableParallelism();
  const patterns = o.patterns ?? PATTERN_NAMES;
  const suite = chooseSuite(o);
  let cases: BenchCase[] = [];
  let sweep: string[] = [];
  if (suite !== 'decode') {
    if (o.n || o.d || o.heads || o.windows) {
      const ns = o.n ?? (quick ? [1024, 4096] : [1024, 4096, 16384, 65536]);
      const ds = o.d ?? [64];
      const heads = o.heads ?? [{ q: 8, kv: 8 }];
      const windows = o.windows ?? [quick ? 256 : 512];
      cases = cross(patterns, ns, ds, heads, windows);
      sweep = [
        `patterns ${patterns.join(', ')} × N ${ns.join(', ')} × D ${ds.join(', ')} × H ${heads.map((h) => (h.q === h.kv ? h.q : `${h.q}:${h.kv}`)).join(', ')} × w ${windows.join(', ')}`,
      ];
    } else ({ cases, sweep } = presetCases(quick, patterns));
  }
  if (suite !== 'prefill') {
    const d = decodeCases(o);
    const seen = new Set(cases.map((c) => c.id));
    cases = [...cases, ...d.cases.filter((c) => !seen.has(c.id) && seen.add(c.id))];
    sweep = [...sweep, ...d.sweep];
  }

  const threads = [...new Set(o.threads ?? (quick ? [cores] : [1, cores]))].sort((a, b) => a - b);
  const specs: TargetSpec[] = [];
  const names = [
    ...(o.backends ?? BACKEND_NAMES).map((name) => ({ kind: 'backend' as const, name })),
    ...(o.peers ?? PEER_NAMES).map((name) => ({ kind: 'peer' as const, name })),
  ];
  for (const { kind, name } of names) {
    if (name === 'webgpu' && o.webgpuSoftware) specs.push({ kind, name, threads: null, label: 'webgpu@software', software: true });
    else if (THREADED.has(name)) for (const t of threads) specs.push({ kind, name, threads: t, label: `${name}@${t}t` });
    else if (SINGLE.has(name)) specs.push({ kind, name, threads: 1, label: `${name}@1t` });
    else specs.push({ kind, name, threads: null, label: name });
  }

  // Decode on cpu-wasm the way its users run it: the kv cache resident in the backend (decode workloads only).
  if (cases.some(isDecode) && names.some((n) => n.name === 'cpu-wasm')) {
    const at = specs.map((s) => s.name).lastIndexOf('cpu-wasm') + 1;
    specs.splice(
      at,
      0,
      ...threads.map((t) => ({ kind: 'backend' as const, name: 'cpu-wasm', threads: t, label: `cpu-wasm kv-cache@${t}t`, variant: 'kv-cache' as const })),
    );
  }
  if (specs.some((s) => s.software))
    sweep = [...sweep, 'webgpu@software: webgpu({ software: true }) (--webgpu-software); on a software adapter (SwiftShader) its figures are not GPU figures'];
  const reps = o.reps;
  const timing = quick
    ? { warmup: 1, minReps: reps ?? 2, maxReps: reps ?? 2, minTimeMs: 0 }
    : {
        warmup: 1,
        minReps: reps ?? 3,
        maxReps: reps ?? 10,
        minTimeMs: reps ? 0 : 1500,
        ...(reps ? {} : { shortCall: { underMs: 10, warmupMs: 200, maxReps: 200 } }),
      };
  const denseTiming = quick
    ? { warmup: 1, minReps: 1, maxReps: 1, minTimeMs: 0 }
    : { warmup: 1, minReps: reps ?? 3, maxReps: reps ?? 5, minTimeMs: reps ? 0 : 1000 };
  const maxRunMs = (o.maxRunS ?? (quick ? 2 : 30)) * 1000;
  const settings: ChildSettings = {
    timing,
    denseTiming,
    maxRunMs,
    measureBudgetMs: quick ? 1200 : 12_000,
    denseBudgetFlops: quick ? 1e9 : 2e10,
    denseTargetMs: quick ? 200 : 2000,
    denseMemoryBytes: quick ? 256 * 2 ** 20 : 1536 * 2 ** 20,
    referenceMaxFlops: quick ? 3e8 : 4e9,
    checkRows: quick ? 6 : 12,
  };
  const runs = timing.warmup + timing.maxReps + denseTiming.warmup + denseTiming.maxReps + 3;
  const caseTimeoutMs = Math.min(45 * 60_000, Math.max(90_000, 3 * runs * maxRunMs));
  return { quick, suite, cases: order(cases), specs, settings, caseTimeoutMs, initTimeoutMs: 120_000, threads, outDir: o.out, sweep };
}
