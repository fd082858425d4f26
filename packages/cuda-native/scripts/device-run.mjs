#!/usr/bin/env node
// The GPU steps of the device check, one step per process (scripts/device-check.sh runs each under its own time
// limit, so that a fault that poisons the CUDA context, or a hang, costs one step and not the whole check). Each
// step writes one JSON part into --parts DIR; `merge` joins the parts into one device-check.json.
//
//   node scripts/device-run.mjs probe                                  load the addon in a child process once, probe
//   node scripts/device-run.mjs smoke [--label L]                      every kernel on small odd shapes (run under
//                                                                      compute-sanitizer by the device check)
//   node scripts/device-run.mjs conformance --precision P --tier T     the golden cases that run on kernel T
//                                                                      (simt, mma64, mma128, mma256) in precision P
//   node scripts/device-run.mjs resident [--quick]                     golden cases through viaResident + resident checks
//   node scripts/device-run.mjs bench [--quick]                        spot check vs core's reference + benchmark
//   node scripts/device-run.mjs merge --out DIR [--steps FILE]         parts + step statuses -> DIR/device-check.json
//
// Every step after `probe` loads the addon in-process (isolateLoad: false): the child-process load test ran once.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareResult, listCases, loadCase, runCase } from '@sparse/conformance';
import { reference } from '@sparse/core';
import { planAttention } from '@sparse/core/backend';
import { mulberry32, referenceRows } from '@sparse/core/reference';
import { cudaNative, hasTopk, loadBinding, toleranceFor, viaResident } from '@sparse/cuda-native';
import { contentSelectionSkip } from './conformance-skips.mjs';
import { runResidentChecks } from './resident-checks.mjs';

const [command, ...argv] = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const quick = argv.includes('--quick');
const partsDir = opt('--parts', process.env.SPARSE_DEVICE_PARTS ?? '/tmp/sparse-cuda-device/parts');
const ANCHOR_TFLOPS = 362;
export const TIERS = ['simt', 'mma64', 'mma128', 'mma256'];
const PRECISION_CODE = { float32: 0, bfloat16: 1, float16: 2 };
const inProcess = (precision) => cudaNative({ precision, isolateLoad: false });

function writePart(name, data) {
  mkdirSync(partsDir, { recursive: true });
  writeFileSync(join(partsDir, `${name}.json`), `${JSON.stringify(data, null, 2)}\n`);
}

function random(rand, n, amp = 1) {
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = ((rand() / 2 ** 32) * 2 - 1) * amp;
  return data;
}

function request({ B = 1, Hq = 1, Hkv = 1, Sq, Sk = Sq, D, Dv = D, layout = 'bhsd', pattern, seed = 7 }) {
  const rand = mulberry32(seed);
  const shape = (H, S, d) => (layout === 'bshd' ? [B, S, H, d] : [B, H, S, d]);
  return {
    q: { data: random(rand, B * Hq * Sq * D), shape: shape(Hq, Sq, D) },
    k: { data: random(rand, B * Hkv * Sk * D), shape: shape(Hkv, Sk, D) },
    v: { data: random(rand, B * Hkv * Sk * Dv), shape: shape(Hkv, Sk, Dv) },
    pattern,
    layout,
    returnLse: true,
  };
}

/** Keys with exact duplicates, so that top-k has ties to break by j. */
function duplicateKeys(req) {
  const D = req.k.shape[3];
  const k = Float32Array.from(req.k.data);
  for (let row = 1; row < k.length / D; row += 2) k.copyWithin(row * D, (row - 1) * D, row * D);
  return { ...req, k: { ...req.k, data: k } };
}

// Small shapes that reach every kernel and every edge: odd and tier-boundary head dims, Dv != D, a ragged last
// tile (65), bshd, GQA 4:1, masked rows, top-k with ties, cluster with GQA.
export const SMOKE = [
  { name: 'D=17 causal S=65', make: () => request({ Sq: 65, D: 17, pattern: { kind: 'causal' } }) },
  {
    name: 'D=80 Dv=48 bshd GQA 4:1 local Sq=65 Sk=70',
    make: () => request({ Hq: 4, Hkv: 1, Sq: 65, Sk: 70, D: 80, Dv: 48, layout: 'bshd', pattern: { kind: 'local', left: 9, right: 4 } }),
  },
  { name: 'D=256 dense S=65', make: () => request({ Sq: 65, D: 256, pattern: { kind: 'dense' } }) },
  { name: 'D=64 GQA 4:1 documents with padding', make: () => request({ Hq: 4, Hkv: 1, Sq: 65, D: 64, pattern: { kind: 'documents', offsets: [0, 20, 50] } }) },
  {
    name: 'top-k ties D=17 within local',
    content: true,
    make: () => duplicateKeys(request({ Hq: 2, Sq: 65, D: 17, pattern: { kind: 'topk', k: 5, within: { kind: 'local', left: 12, right: 12 } } })),
  },
  {
    name: 'cluster GQA 2:1 D=8',
    content: true,
    make: () =>
      request({
        Hq: 4,
        Hkv: 2,
        Sq: 65,
        D: 8,
        pattern: {
          kind: 'cluster',
          centroids: [
            [1, 0, 0, 0, 0, 0, 0, 0],
            [0, 1, 1, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 1, -1, 0, 1],
          ],
        },
      }),
  },
];

async function probe() {
  const backend = cudaNative(); // the one child-process load test of the run
  const p = await backend.probe();
  await backend.dispose();
  // Where the addon came from and how it was built (loaded in-process only once the child-process load passed).
  const loaded = await loadBinding({ isolate: !p.available });
  const info = loaded.ok ? { path: loaded.path, source: loaded.source, build: loaded.binding.buildInfo(), liveTensors: loaded.binding.tensorCount() } : null;
  console.log(`probe: ${JSON.stringify(p)}\naddon: ${JSON.stringify(info)}`);
  writePart('probe', { probe: p, build: info });
  if (!p.available) {
    console.error(`device-run: the backend is unavailable: ${p.reason}`);
    process.exitCode = 3;
  }
}

async function smoke() {
  const label = opt('--label', 'plain');
  const results = [];
  for (const precision of ['float32', 'bfloat16', 'float16']) {
    const backend = inProcess(precision);
    for (const c of SMOKE) {
      const req = c.make();
      const started = Date.now();
      try {
        const got = await backend.attention(req);
        const want = await reference().attention(req);
        const golden = { manifest: { shapes: { out: want.out.shape, lse: want.lse.shape } }, expected: { out: want.out.data, lse: want.lse.data } };
        // In bf16/f16 a rounding may flip a content-based selection: there only finiteness is checked.
        const check = c.content && precision !== 'float32';
        const outcome = check
          ? { pass: got.out.data.every(Number.isFinite), message: 'non-finite output' }
          : compareResult(golden, got, toleranceFor(precision, req));
        results.push({ name: `${precision} ${c.name}`, ok: outcome.pass, ms: Date.now() - started, ...(outcome.pass ? {} : { error: outcome.message }) });
      } catch (e) {
        results.push({ name: `${precision} ${c.name}`, ok: false, error: `${e?.code ?? ''} ${e?.message ?? e}` });
      }
      const r = results.at(-1);
      console.log(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.name}${r.ok ? '' : `: ${r.error}`}`);
    }
    await backend.dispose();
  }
  const failed = results.filter((r) => !r.ok).length;
  writePart(`smoke-${label}`, { label, checks: results.length, failed, results });
  if (failed) process.exitCode = 1;
}

/** The golden cases the backend runs on `tier` in `precision` (the addon's own kernel choice). */
export function casesOnTier(binding, precision, tier) {
  return listCases({}).filter((m) => {
    const plan = planAttention(loadCase(m).request);
    return TIERS[binding.plan(PRECISION_CODE[precision], plan.headDim, plan.headDimV, hasTopk(plan)).kernel] === tier;
  });
}

async function conformance() {
  const precision = opt('--precision', 'float32');
  const tier = opt('--tier', 'simt');
  const loaded = await loadBinding({ isolate: false });
  if (!loaded.ok) throw new Error(loaded.reason);
  const manifests = casesOnTier(loaded.binding, precision, tier);
  const backend = inProcess(precision);
  const skip = contentSelectionSkip(precision);
  const outcomes = [];
  const started = Date.now();
  for (const m of manifests) {
    const golden = loadCase(m);
    outcomes.push(await runCase(backend, golden, { tolerance: toleranceFor(precision, golden.request), skip }));
  }
  await backend.dispose();
  const report = {
    backend: 'cuda-native',
    available: true,
    passed: outcomes.filter((o) => o.pass && !o.skipped).length,
    failed: outcomes.filter((o) => !o.pass).length,
    skipped: outcomes.filter((o) => o.skipped).length,
    outcomes,
  };
  console.log(
    `${precision} ${tier}: ${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped of ${manifests.length} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
  for (const o of outcomes.filter((x) => !x.pass)) console.log(`  FAIL ${o.id}: ${o.message}`);
  writePart(`conformance-${precision}-${tier}`, { precision, tier, ...report });
  if (report.failed) process.exitCode = 1;
}

async function resident() {
  const backend = viaResident(inProcess('float32'));
  const outcomes = [];
  for (const m of listCases({})) outcomes.push(await runCase(backend, loadCase(m)));
  await backend.dispose();
  const golden = { passed: outcomes.filter((o) => o.pass).length, failed: outcomes.filter((o) => !o.pass) };
  console.log(`float32 golden cases through viaResident: ${golden.passed} passed, ${golden.failed.length} failed`);
  const make = (options = {}) => cudaNative({ ...options, isolateLoad: false });
  const nativeTensors = async () => {
    const loaded = await loadBinding({ isolate: false });
    return loaded.ok ? loaded.binding.tensorCount() : 0;
  };
  const results = await runResidentChecks(make, viaResident, { ...(quick ? { precisions: ['float32', 'bfloat16'] } : {}), nativeTensors });
  for (const r of results) console.log(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.name} (${r.ms ?? 0} ms)${r.ok ? '' : `\n${r.error}`}`);
  const bad = results.filter((r) => !r.ok);
  writePart('resident', { golden, checks: results.length, failed: bad.length, results });
  if (bad.length || golden.failed.length) process.exitCode = 1;
}

function benchRequest(N, D, pattern) {
  const rand = mulberry32(42);
  const shape = [1, 1, N, D];
  return { q: { data: random(rand, N * D), shape }, k: { data: random(rand, N * D), shape }, v: { data: random(rand, N * D), shape }, pattern };
}

async function bench() {
  const N = quick ? 8192 : 32768;
  const D = 128;
  // The benchmark case itself, bf16: sampled rows against core's float64 reference.
  const req = benchRequest(N, D, { kind: 'local', left: 1024, right: 1024 });
  const spotBackend = inProcess('bfloat16');
  const res = await spotBackend.attention({ ...req, returnLse: true });
  await spotBackend.dispose();
  const rows = [0, 1, 63, 64, 1000, 1025, 2048, N - 1, Math.floor(N / 2)];
  const ref = referenceRows(
    req,
    rows.map((i) => ({ b: 0, h: 0, i })),
  );
  const tol = toleranceFor('bfloat16', req);
  let maxAbs = 0;
  let maxLse = 0;
  let ok = true;
  rows.forEach((i, n) => {
    for (let d = 0; d < D; d++) {
      const err = Math.abs(res.out.data[i * D + d] - ref[n].out[d]);
      maxAbs = Math.max(maxAbs, err);
      if (!(err <= tol.atol + tol.rtol * Math.abs(ref[n].out[d]))) ok = false;
    }
    maxLse = Math.max(maxLse, Math.abs(res.lse.data[i] - ref[n].lse));
  });
  ok &&= maxLse <= tol.lseAtol;
  const spotCheck = { rows: rows.length, maxAbs, maxLse, tolerance: tol, ok };
  console.log(
    `spot check (bf16 local L=R=1024, ${rows.length} rows vs reference): max |out err| ${maxAbs.toExponential(2)}, max |lse err| ${maxLse.toExponential(2)} ${ok ? 'OK' : 'FAIL'}`,
  );

  const cases = [
    { name: 'local L=R=1024 bf16', precision: 'bfloat16', pattern: { kind: 'local', left: 1024, right: 1024 } },
    { name: 'dense bf16', precision: 'bfloat16', pattern: { kind: 'dense' } },
    { name: 'local L=R=1024 f16', precision: 'float16', pattern: { kind: 'local', left: 1024, right: 1024 } },
    { name: 'dense f16', precision: 'float16', pattern: { kind: 'dense' } },
    { name: 'local L=R=1024 f32 (CUDA cores)', precision: 'float32', pattern: { kind: 'local', left: 1024, right: 1024 } },
  ];
  console.log(`benchmark: B=1, H=1, N=${N}, D=${D} (GPU time of the fused kernel, CUDA events, median of 20 after 3 warm-ups)`);
  const rowsOut = [];
  for (const c of cases) {
    const backend = inProcess(c.precision);
    const p = await backend.profile(benchRequest(N, D, c.pattern), { warmup: 3, iterations: 20 });
    await backend.dispose();
    rowsOut.push({ ...c, N, D, medianMs: p.medianMs, minMs: p.minMs, nnz: p.nnz, tflops: p.tflops, kernel: p.kernel, tiles: `${p.blockQ}x${p.blockK}` });
    console.log(
      `  ${c.name.padEnd(34)} ${p.medianMs.toFixed(3).padStart(9)} ms  ${p.tflops.toFixed(1).padStart(7)} TFLOP/s  (${p.kernel} ${p.blockQ}x${p.blockK}, nnz ${p.nnz})`,
    );
  }
  const [local, dense] = rowsOut;
  const headline = {
    case: `B=1 H=1 N=${N} D=128 L=R=1024 bf16`,
    tflops: local.tflops,
    anchorTflops: ANCHOR_TFLOPS,
    vsAnchor: local.tflops / ANCHOR_TFLOPS,
    denseTflops: dense.tflops,
    vsDense: local.tflops / dense.tflops,
  };
  console.log(
    `HEADLINE ${headline.case}: ${local.tflops.toFixed(1)} TFLOP/s = ${(100 * headline.vsAnchor).toFixed(0)}% of the anchor ${ANCHOR_TFLOPS} (NATTEN, H100); ` +
      `our dense kernel ${dense.tflops.toFixed(1)} TFLOP/s (sparse/dense ${headline.vsDense.toFixed(2)})`,
  );
  writePart('bench', { spotCheck, benchmark: rowsOut, headline });
  if (!ok) process.exitCode = 1;
}

/** Joins the parts and the shell's step records (one JSON object a line) into one device-check.json. */
export function mergeParts(dir, stepsFile) {
  const parts = {};
  for (const f of readdirSync(dir, { withFileTypes: true }))
    if (f.isFile() && f.name.endsWith('.json')) parts[f.name.replace(/\.json$/, '')] = JSON.parse(readFileSync(join(dir, f.name), 'utf8'));
  let steps = [];
  try {
    steps = readFileSync(stepsFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {
    // no step records: merged from parts alone
  }
  const failedSteps = steps.filter((s) => s.status !== 'ok' && s.status !== 'skipped');
  return { date: new Date().toISOString(), pass: steps.length > 0 && failedSteps.length === 0, steps, parts };
}

function merge() {
  const out = opt('--out', process.env.OUT ?? '/tmp/sparse-cuda-device/out');
  const summary = mergeParts(partsDir, opt('--steps', join(partsDir, '..', 'steps.jsonl')));
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'device-check.json'), `${JSON.stringify(summary, null, 2)}\n`);
  for (const s of summary.steps)
    console.log(`SUMMARY ${s.name.padEnd(28)} ${s.status}${s.seconds !== undefined ? ` (${s.seconds} s)` : ''}${s.note ? ` — ${s.note}` : ''}`);
  for (const [name, p] of Object.entries(summary.parts))
    if (name.startsWith('conformance-')) console.log(`SUMMARY ${name.padEnd(28)} ${p.passed} passed, ${p.failed} failed, ${p.skipped} skipped`);
  const h = summary.parts.bench?.headline;
  if (h)
    console.log(
      `HEADLINE ${h.case}: ${h.tflops.toFixed(1)} TFLOP/s (${(100 * h.vsAnchor).toFixed(0)}% of the anchor ${h.anchorTflops}); dense ${h.denseTflops.toFixed(1)}`,
    );
}

const COMMANDS = { probe, smoke, conformance, resident, bench, merge };
if (process.argv[1]?.endsWith('device-run.mjs')) {
  const run = COMMANDS[command];
  if (!run) {
    console.error(`device-run: unknown step ${JSON.stringify(command)} (one of ${Object.keys(COMMANDS).join(', ')})`);
    process.exit(2);
  }
  Promise.resolve(run()).catch((e) => {
    console.error(e?.stack ?? e);
    process.exit(1);
  });
}
