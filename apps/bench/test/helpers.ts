import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeInputs } from '../src/data.js';
import { RssSampler } from '../src/memory.js';
import { caseStats } from '../src/stats.js';
import type { RunContext } from '../src/targets/target.js';
import type { ChildSettings } from '../src/types.js';
import { type BenchCase, buildPattern } from '../src/workloads.js';

export const SETTINGS: ChildSettings = {
  timing: { warmup: 0, minReps: 1, maxReps: 1, minTimeMs: 0 },
  denseTiming: { warmup: 0, minReps: 1, maxReps: 1, minTimeMs: 0 },
  maxRunMs: 60_000,
  measureBudgetMs: 60_000,
  denseBudgetFlops: 1e12,
  denseTargetMs: 60_000,
  denseMemoryBytes: 2 ** 30,
  referenceMaxFlops: 1e12,
  checkRows: 1_000_000,
};

/** A RunContext for calling a target directly in a test; checkRows large = every row is checked. */
export function context(c: BenchCase, sampler: RssSampler, settings: Partial<ChildSettings> = {}): RunContext {
  const inputs = makeInputs(c);
  return {
    case: c,
    stats: caseStats(c, buildPattern(c), inputs),
    inputs,
    settings: { ...SETTINGS, ...settings },
    sampler,
    baselineRssBytes: process.memoryUsage.rss(),
    history: new Map(),
    phase: () => undefined,
  };
}

export { RssSampler };

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const mainJs = join(root, 'dist', 'main.js');

/** The CLI runs from dist (its children are plain Node processes): build it when it is missing or stale. */
export function ensureBuilt(): void {
  const newest = (dir: string): number =>
    Math.max(...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));
  if (existsSync(mainJs) && statSync(mainJs).mtimeMs >= newest(join(root, 'src'))) return;
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
}
