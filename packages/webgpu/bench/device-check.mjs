#!/usr/bin/env node
// Device check for @sparse/webgpu, in one call on a machine with a real GPU:
//   1. probes the adapter (Node: the `webgpu` package, Dawn),
//   2. runs every conformance case (@sparse/conformance) and prints the pass/fail table,
//   3. times the fused kernel on the resident path and prints effective GFLOP/s (4 · nnz · D / t) and
//      η = speedup over our own dense kernel × density, for N = 16384, L = R = 256 (the issue's goal: η >= 0.7).
// Usage (after `pnpm --filter @sparse/webgpu build`):
//   node packages/webgpu/bench/device-check.mjs [--quick] [--n N] [--software] [--json FILE] [--skip-conformance]
//     [--heads H] [--reps R] [--workloads dense,local,causal,sliding-causal,topk] [--dense-rows ROWS]
// --software allows Chromium's SwiftShader when there is no GPU (a dry run of the script, not a measurement).
// --heads (default 8), --reps (default 5, --quick 3) and --workloads (default all) shrink the run; --dense-rows
// times the dense kernel on the last ROWS query rows (and ROWS/2), every key, and extends the fixed + per-row fit
// to N: the dense kernel's work is the same for every query row, so this is the full dense time without the N² run
// (SwiftShader does ~0.4 GFLOP/s: one dense call at N = 16384, H = 8 would take about 25 minutes).
// Exit status: 0 when the adapter is there and every case passes, 1 otherwise.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { formatReport, runConformance } from '@sparse/conformance';
import { webgpu } from '../dist/index.js';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const quick = flag('--quick');
const software = flag('--software');

function random(n, seed) {
  let s = seed >>> 0;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 2 ** 32) * 2 - 1;
  }
  return a;
}

function upload(device, data) {
  const buffer = device.createBuffer({ size: data.byteLength, usage: 0x80 | 0x8 | 0x4 });
  device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

/**
 * CPU seconds used so far by this process's threads other than the main one (Linux; null elsewhere). On a software
 * adapter those are the rasteriser's workers: their CPU time is the work done, whatever other processes take from
 * the wall clock on a shared machine. (The main thread is left out: Dawn's Node binding polls on it while it waits.)
 */
function workerCpuSeconds() {
  try {
    let ticks = 0;
    for (const tid of readdirSync('/proc/self/task')) {
      if (Number(tid) === process.pid) continue;
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    }
    return ticks / 100;
  } catch {
    return null;
  }
}

const mid = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median (and fastest) seconds of the resident call, from submit to the queue being done; worker CPU seconds. */
async function timeBoth(backend, device, request, reps) {
  const run = async () => {
    const c0 = workerCpuSeconds();
    const t0 = performance.now();
    const res = await backend.attentionResident(request);
    await device.queue.onSubmittedWorkDone();
    const t = (performance.now() - t0) / 1000;
    const c1 = workerCpuSeconds();
    res.out.buffer.destroy();
    res.lse?.buffer.destroy();
    return { t, cpu: c0 === null || c1 === null ? null : c1 - c0 };
  };
  await run(); // compile + warm-up
  const runs = [];
  for (let r = 0; r < reps; r++) runs.push(await run());
  const times = runs.map((x) => x.t).sort((a, b) => a - b);
  const cpu = runs.every((x) => x.cpu !== null) ? mid(runs.map((x) => x.cpu)) : null;
  return { median: times[Math.floor(times.length / 2)], min: times[0], samples: times, cpu };
}

/**
 * The dense kernel timed on the last `rows` query rows and on rows / 2 (every key), extended to N by the fixed +
 * per-row fit of the fastest runs (proportional where the two do not fit that model).
 */
async function denseSliced(backend, device, qData, k, v, N, H, D, rows, reps) {
  const sliced = async (r) => {
    const data = new Float32Array(H * r * D);
    for (let h = 0; h < H; h++) data.set(qData.subarray((h * N + N - r) * D, (h + 1) * N * D), h * r * D);
    const q = { buffer: upload(device, data), shape: [1, H, r, D] };
    const t = await timeBoth(backend, device, { q, k, v, pattern: { kind: 'dense' }, queryOffset: N - r }, reps);
    q.buffer.destroy();
    return t;
  };
  const full = await sliced(rows);
  const half = await sliced(rows / 2);
  const slope = (full.min - half.min) / (rows / 2);
  const fixed = full.min - slope * rows;
  const linear = slope > 0 && fixed >= 0;
  const extend = (t) => (linear ? t + slope * (N - rows) : (t * N) / rows);
  // Worker CPU time has no fixed wall-clock part: proportional to the rows.
  const cpu = full.cpu === null ? null : (full.cpu * N) / rows;
  return {
    seconds: extend(full.median),
    minSeconds: extend(full.min),
    cpu,
    rowsCpu: full.cpu,
    halfCpu: half.cpu,
    rows,
    rowsMedian: full.median,
    halfRows: rows / 2,
    halfMin: half.min,
    perRow: linear ? slope : full.median / rows,
    fixed: linear ? fixed : 0,
    method: linear ? 'linear' : 'proportional',
  };
}

async function throughput(backend, device) {
  const N = Number(value('--n') ?? (quick ? 4096 : 16384));
  const H = Number(value('--heads') ?? 8);
  const D = 64;
  const reps = Number(value('--reps') ?? (quick ? 3 : 5));
  const denseRows = value('--dense-rows') === undefined ? null : Number(value('--dense-rows'));
  if (denseRows !== null && !(Number.isInteger(denseRows) && denseRows >= 2 && denseRows % 2 === 0 && denseRows < N))
    throw new Error(`--dense-rows: an even number of rows below N = ${N} (got ${value('--dense-rows')})`);
  const shape = [1, H, N, D];
  const qData = random(H * N * D, 1);
  const q = { buffer: upload(device, qData), shape };
  const k = { buffer: upload(device, random(H * N * D, 2)), shape };
  const v = { buffer: upload(device, random(H * N * D, 3)), shape };
  const all = [
    ['dense', 'dense', { kind: 'dense' }],
    ['local', 'local L=R=256', { kind: 'local', left: 256, right: 256 }],
    ['causal', 'causal', { kind: 'causal' }],
    ['sliding-causal', 'sliding causal 512', { kind: 'local', left: 511, right: 0 }],
    ['topk', 'topk k=32 within L=R=256', { kind: 'topk', k: 32, within: { kind: 'local', left: 256, right: 256 } }],
  ];
  const only = value('--workloads')?.split(',');
  for (const id of only ?? []) if (!all.some(([i]) => i === id)) throw new Error(`--workloads: unknown "${id}" (known: ${all.map(([i]) => i).join(', ')})`);
  // The dense baseline first: every η divides by it.
  const workloads = all.filter(([id]) => id === 'dense' || !only || only.includes(id));
  const rows = [];
  for (const [, name, pattern] of workloads) {
    let t;
    let slice;
    let run;
    if (pattern.kind === 'dense' && denseRows !== null) {
      slice = await denseSliced(backend, device, qData, k, v, N, H, D, denseRows, reps);
      t = { median: slice.seconds, min: slice.minSeconds, samples: [], cpu: slice.cpu };
      run = { blockK: backend.lastRun().blockK, chunks: backend.lastRun().chunks, masks: [{ nnz: N * N }] };
    } else {
      t = await timeBoth(backend, device, { q, k, v, pattern }, reps);
      run = backend.lastRun();
    }
    const note = slice
      ? ` (extrapolated: ${slice.rows} rows ${(slice.rowsMedian * 1e3).toFixed(1)} ms, ${slice.halfRows} rows ${(slice.halfMin * 1e3).toFixed(1)} ms, ${slice.method} fit)`
      : ` (fastest ${(t.min * 1e3).toFixed(1)} ms)`;
    const cpuNote = t.cpu === null ? '' : `; worker threads ${t.cpu.toFixed(2)} CPU-s${slice ? ` (${slice.rows} rows: ${slice.rowsCpu.toFixed(2)})` : ''}`;
    if (software) console.error(`  ${name}: ${(t.median * 1e3).toFixed(1)} ms${note}${cpuNote}`);
    const nnz = pattern.kind === 'topk' ? N * pattern.k * H : run.masks[0].nnz * H;
    rows.push({
      name,
      N,
      H,
      D,
      seconds: t.median,
      minSeconds: t.min,
      samples: t.samples,
      workerCpuSeconds: t.cpu,
      nnz,
      density: nnz / (N * N * H),
      gflops: (4 * nnz * D) / t.median / 1e9,
      blockK: run.blockK,
      chunks: run.chunks,
      ...(slice ? { denseSlice: slice } : {}),
    });
  }
  const dense = rows[0];
  for (const r of rows) {
    r.eta = (dense.seconds / r.seconds) * r.density;
    // From the fastest run of each: on a shared machine, the least disturbed.
    r.etaFastest = (dense.minSeconds / r.minSeconds) * r.density;
    // From the CPU time of the worker threads (software adapters: the rasteriser's work, robust to other load).
    r.etaCpu = dense.workerCpuSeconds && r.workerCpuSeconds ? (dense.workerCpuSeconds / r.workerCpuSeconds) * r.density : null;
  }
  for (const b of [q, k, v]) b.buffer.destroy();
  return rows;
}

const backend = webgpu({ software, powerPreference: 'high-performance' });
const probe = await backend.probe();
console.log(`webgpu device check: ${probe.available ? probe.device : `unavailable: ${probe.reason}`}`);
if (!probe.available) process.exit(1);
const result = { device: probe.device, conformance: null, throughput: null };
let ok = true;
if (!flag('--skip-conformance')) {
  const report = await runConformance(backend);
  console.log(formatReport(report));
  result.conformance = { passed: report.passed, failed: report.failed, skipped: report.skipped };
  ok = report.failed === 0;
}
const device = await backend.device();
const rows = await throughput(backend, device);
result.throughput = rows;
const soft = Boolean(probe.device && /swiftshader|llvmpipe|lavapipe|fallback adapter|software/i.test(probe.device));
console.log(`\nworkload                      N      ms   GFLOP/s  density      η  η (fastest runs)${soft ? '  η (worker CPU time)' : ''}`);
for (const r of rows)
  console.log(
    `${r.name.padEnd(26)} ${String(r.N).padStart(6)} ${(r.seconds * 1e3).toFixed(2).padStart(7)}${r.denseSlice ? '*' : ' '}${r.gflops.toFixed(1).padStart(8)} ${r.density.toFixed(4).padStart(8)} ${r.eta.toFixed(2).padStart(6)} ${r.etaFastest.toFixed(2).padStart(6)}${soft && r.etaCpu !== null ? r.etaCpu.toFixed(2).padStart(8) : ''}`,
  );
const slice = rows.find((r) => r.denseSlice)?.denseSlice;
if (slice)
  console.log(
    `* dense timed on the last ${slice.rows} and ${slice.halfRows} of ${rows[0].N} query rows (every key) and extended to N (${slice.method}: ${(slice.fixed * 1e3).toFixed(1)} ms + ${(slice.perRow * 1e3).toFixed(3)} ms per row): dense work is the same for every query row`,
  );
if (soft)
  console.log(
    'software adapter: these timings are of a CPU rasteriser, not of a GPU. η (worker CPU time) divides the CPU time of the rasteriser threads (dense: proportional to rows), which other load on the machine does not inflate',
  );
const out = value('--json');
if (out) writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
await backend.dispose();
process.exit(ok ? 0 : 1);
