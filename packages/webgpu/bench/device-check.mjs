#!/usr/bin/env node
// Device check for @sparse/webgpu, in one call on a machine with a real GPU:
//   1. probes the adapter (Node: the `webgpu` package, Dawn),
//   2. runs every conformance case (@sparse/conformance) and prints the pass/fail table,
//   3. times the fused kernel on the resident path and prints effective GFLOP/s (4 · nnz · D / t) and
//      η = speedup over our own dense kernel × density, for N = 16384, L = R = 256 (the issue's goal: η >= 0.7).
// Usage (after `pnpm --filter @sparse/webgpu build`):
//   node packages/webgpu/bench/device-check.mjs [--quick] [--n N] [--software] [--json FILE] [--skip-conformance]
// --software allows Chromium's SwiftShader when there is no GPU (a dry run of the script, not a measurement).
// Exit status: 0 when the adapter is there and every case passes, 1 otherwise.
import { writeFileSync } from 'node:fs';
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

/** Median seconds of the resident call, from submit to the queue being done. */
async function time(backend, device, request, reps) {
  const run = async () => {
    const t0 = performance.now();
    const res = await backend.attentionBuffers(request);
    await device.queue.onSubmittedWorkDone();
    const t = (performance.now() - t0) / 1000;
    res.out.buffer.destroy();
    res.lse?.buffer.destroy();
    return t;
  };
  await run(); // compile + warm-up
  const times = [];
  for (let r = 0; r < reps; r++) times.push(await run());
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

async function throughput(backend, device) {
  const N = Number(value('--n') ?? (quick ? 4096 : 16384));
  const H = 8;
  const D = 64;
  const reps = quick ? 3 : 5;
  const shape = [1, H, N, D];
  const tensor = (seed) => ({ buffer: upload(device, random(H * N * D, seed)), shape });
  const q = tensor(1);
  const k = tensor(2);
  const v = tensor(3);
  const workloads = [
    ['dense', { kind: 'dense' }],
    ['local L=R=256', { kind: 'local', left: 256, right: 256 }],
    ['causal', { kind: 'causal' }],
    ['sliding causal 512', { kind: 'local', left: 511, right: 0 }],
    ['topk k=32 within L=R=256', { kind: 'topk', k: 32, within: { kind: 'local', left: 256, right: 256 } }],
  ];
  const rows = [];
  for (const [name, pattern] of workloads) {
    const t = await time(backend, device, { q, k, v, pattern }, reps);
    if (software) console.error(`  ${name}: ${(t * 1e3).toFixed(1)} ms`);
    const run = backend.lastRun();
    const nnz = pattern.kind === 'topk' ? N * pattern.k * H : run.masks[0].nnz * H;
    rows.push({ name, N, H, D, seconds: t, nnz, density: nnz / (N * N * H), gflops: (4 * nnz * D) / t / 1e9, blockK: run.blockK, chunks: run.chunks });
  }
  const dense = rows[0];
  for (const r of rows) r.eta = (dense.seconds / r.seconds) * r.density;
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
console.log('\nworkload                      N      ms   GFLOP/s  density      η');
for (const r of rows)
  console.log(
    `${r.name.padEnd(26)} ${String(r.N).padStart(6)} ${(r.seconds * 1e3).toFixed(2).padStart(7)} ${r.gflops.toFixed(1).padStart(9)} ${r.density.toFixed(4).padStart(8)} ${r.eta.toFixed(2).padStart(6)}`,
  );
const out = value('--json');
if (out) writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
await backend.dispose();
process.exit(ok ? 0 : 1);
