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
