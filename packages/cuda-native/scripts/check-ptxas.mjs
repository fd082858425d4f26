#!/usr/bin/env node
// Reads the `-Xptxas -v` reports that build-native.mjs keeps in build/ptxas/*.log and fails when any kernel of
// any architecture spills registers to local memory ("N bytes spill stores/loads" with N > 0), or when the
// reports are missing although the addon was built. Prints registers and spills per kernel and architecture.
//
//   node scripts/check-ptxas.mjs [--require]   (--require: fail too when the addon was not built)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = resolve(pkgDir, process.env.SPARSE_CUDA_BUILD_DIR ?? 'build');
const logDir = join(buildDir, 'ptxas');
const require = process.argv.includes('--require');

/** Short readable name of a mangled kernel: attnMma<__nv_bfloat16, 128>, attnSimt<float>, … */
export function kernelName(mangled) {
  const m = /(attnMma|attnSimt|topkSelect|clusterLabels)I(.*?)E(?:Lb|EvNS|Ev)/.exec(mangled);
  if (!m) return mangled;
  const args = m[2]
    .replace(/13__nv_bfloat16/g, 'bf16,')
    .replace(/6__half/g, 'f16,')
    .replace(/(^|,)f(?=L|$)/g, '$1f32,')
    .replace(/^f$/, 'f32')
    .replace(/Li(\d+)E?/g, '$1,')
    .replace(/,+$/, '')
    .replace(/,/g, ', ');
  return `${m[1]}<${args || (m[2] === 'f' ? 'f32' : m[2])}>`;
}

/** Parses ptxas -v output into one record per (kernel, arch). */
export function parsePtxas(text) {
  const rows = [];
  let cur = null;
  for (const line of text.split('\n')) {
    const entry = /Compiling entry function '([^']+)' for '(sm_\d+a?)'/.exec(line);
    if (entry) {
      cur = { kernel: kernelName(entry[1]), mangled: entry[1], arch: entry[2], registers: null, stack: 0, spillStores: 0, spillLoads: 0 };
      rows.push(cur);
      continue;
    }
    if (!cur) continue;
    const spill = /(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads/.exec(line);
    if (spill) {
      cur.stack = Number(spill[1]);
      cur.spillStores = Number(spill[2]);
      cur.spillLoads = Number(spill[3]);
    }
    const regs = /Used (\d+) registers/.exec(line);
    if (regs) cur.registers = Number(regs[1]);
  }
  return rows;
}

function main() {
  const statusFile = join(buildDir, 'native-status.json');
  const status = existsSync(statusFile) ? JSON.parse(readFileSync(statusFile, 'utf8')) : null;
  if (!status) {
    console.error('check-ptxas: build/native-status.json is missing: run the build first (pnpm --filter @sparse/cuda-native build)');
    process.exit(1);
  }
  if (!status.built) {
    const msg = `check-ptxas: the addon was not built (${status.reason}); nothing to check`;
    if (require) {
      console.error(msg);
      process.exit(1);
    }
    console.log(`${msg} — skipped`);
    return;
  }
  const logs = existsSync(logDir) ? readdirSync(logDir).filter((f) => f.endsWith('.log')) : [];
  const rows = logs.flatMap((f) => parsePtxas(readFileSync(join(logDir, f), 'utf8')).map((r) => ({ ...r, file: f })));
  const main = rows.filter((r) => /attnMma|attnSimt|topkSelect|clusterLabels/.test(r.mangled));
  if (main.length === 0) {
    console.error(`check-ptxas: no kernel reports in ${logDir} (was the addon built with -Xptxas -v?)`);
    process.exit(1);
  }
  const bad = rows.filter((r) => r.spillStores > 0 || r.spillLoads > 0);
  const byKernel = new Map();
  for (const r of main) {
    const list = byKernel.get(r.kernel) ?? [];
    list.push(`${r.arch}:${r.registers}r${r.spillStores || r.spillLoads ? ` SPILL ${r.spillStores}/${r.spillLoads}B` : ''}`);
    byKernel.set(r.kernel, list);
  }
  for (const [k, list] of byKernel) console.log(`  ${k.padEnd(34)} ${list.join('  ')}`);
  if (bad.length) {
    console.error(`check-ptxas: FAIL — ${bad.length} kernel build(s) spill registers:`);
    for (const r of bad) console.error(`  ${r.kernel} ${r.arch}: ${r.spillStores} bytes spill stores, ${r.spillLoads} bytes spill loads (${r.file})`);
    process.exit(1);
  }
  console.log(
    `check-ptxas: OK — no register spills in ${rows.length} kernel builds (the ${byKernel.size} main kernels listed × ${new Set(main.map((r) => r.arch)).size} archs, and the helpers)`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
