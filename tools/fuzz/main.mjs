#!/usr/bin/env node
// `pnpm fuzz`: the shared fuzz properties of @sparse/conformance (random valid requests against the float64
// reference, random invalid ones against core's typed errors, 32 calls in flight, a leak check) on every backend,
// through each package's own fuzz suite, with one seed for all. Prints a table and ends with "N passed, N failed".
//
//   pnpm fuzz [--runs N] [--seed S] [--only NAME]   (defaults: 500 runs, seed 42, every suite)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SUITES = [
  { name: 'reference', dir: 'packages/conformance', file: 'test/fuzz.test.ts' },
  { name: 'cpu-wasm', dir: 'packages/cpu-wasm', file: 'test/fuzz.test.ts' },
  { name: 'tfjs', dir: 'packages/tfjs', file: 'test/fuzz.test.ts' },
  { name: 'webgpu', dir: 'packages/webgpu', file: 'test/fuzz.test.ts' },
  { name: 'cuda-native', dir: 'packages/cuda-native', file: 'test/fuzz-model.test.ts' },
];

function flag(argv, name, fallback) {
  const at = argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = argv[at + 1];
  if (value === undefined) throw new Error(`--${name} needs a value`);
  return value;
}

function main(argv) {
  const runs = Number(flag(argv, 'runs', '500'));
  const seed = Number(flag(argv, 'seed', '42'));
  const only = flag(argv, 'only', undefined);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  if (!Number.isInteger(seed)) throw new Error('--seed must be an integer');
  const out = mkdtempSync(join(tmpdir(), 'sparse-fuzz-'));
  const rows = [];
  for (const suite of SUITES.filter((s) => !only || s.name === only)) {
    const report = join(out, `${suite.name}.json`);
    const started = Date.now();
    const r = spawnSync('npx', ['vitest', 'run', suite.file, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], {
      cwd: join(ROOT, suite.dir),
      env: { ...process.env, SPARSE_FUZZ_RUNS: String(runs), SPARSE_FUZZ_SEED: String(seed) },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    let tests = [];
    try {
      tests = JSON.parse(readFileSync(report, 'utf8')).testResults.flatMap((f) => f.assertionResults);
    } catch {
      tests = [];
    }
    for (const t of tests) rows.push({ suite: suite.name, title: `${t.ancestorTitles.at(-1) ?? ''} › ${t.title}`, status: t.status, ms: t.duration ?? 0 });
    // Errors outside a test (an unhandled rejection, say) fail vitest with every test passed: count them too.
    if (tests.length === 0 || (r.status !== 0 && tests.every((t) => t.status !== 'failed')))
      rows.push({
        suite: suite.name,
        title: `vitest exited ${r.status}${tests.length ? ' (an error outside the tests)' : ' without a report'}`,
        status: 'failed',
        ms: Date.now() - started,
      });
  }
  const width = Math.max(...rows.map((r) => r.title.length));
  console.log(`\nfuzz: ${runs} runs per property, seed ${seed}`);
  for (const r of rows) console.log(`${r.status.padEnd(7)} ${r.title.padEnd(width)} ${(r.ms / 1000).toFixed(1).padStart(7)} s`);
  rmSync(out, { recursive: true, force: true });
  const passed = rows.filter((r) => r.status === 'passed').length;
  const failed = rows.filter((r) => r.status === 'failed').length;
  const skipped = rows.length - passed - failed;
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
