import type { Pattern } from '@sparse/core';
import type { Inputs } from '../data.js';
import { collectGarbage, type RssSampler } from '../memory.js';
import type { CaseStats } from '../stats.js';
import { type MeasureOptions, measure, type Timing, type TimingSettings } from '../timing.js';
import type { ChildSettings, MemoryFigures, RowTiming, TargetInfo, TargetResult } from '../types.js';
import { type BenchCase, buildPattern, seqQ } from '../workloads.js';

/** What a target gets for one case. */
export interface RunContext {
  case: BenchCase;
  stats: CaseStats;
  inputs: Inputs;
  settings: ChildSettings;
  sampler: RssSampler;
  /** RSS after the target was loaded, before any case. */
  baselineRssBytes: number;
  /** Throughput history of this target (flops per ms), keyed by what ran ('sparse:sliding', 'dense', …). */
  history: Map<string, number>;
  phase(name: string): void;
}

export interface Target {
  readonly info: TargetInfo;
  run(ctx: RunContext): Promise<TargetResult>;
  dispose(): Promise<void>;
}

/** A prepared call on a number of query rows, and how to free what it holds. */
export interface Prepared<T> {
  call: () => Promise<T>;
  /** Run before every call, not timed (see MeasureOptions.before). */
  before?: () => Promise<void> | void;
  release?: () => Promise<void> | void;
}

/** Largest power of two <= x (at least 1). */
export function pow2floor(x: number): number {
  return x < 1 ? 1 : 2 ** Math.floor(Math.log2(x));
}

/**
 * Estimated ms of a run of `flops` from the history under `key` (else the best throughput of the same kind, e.g.
 * another pattern's sparse runs); undefined without any history.
 */
export function estimateMs(ctx: RunContext, key: string, flops: number): number | undefined {
  let tp = ctx.history.get(key);
  const kind = key.split(':')[0]!;
  if (tp === undefined) for (const [k, v] of ctx.history) if (k.split(':')[0] === kind) tp = Math.max(tp ?? 0, v);
  // Nothing of this kind yet: the best throughput of anything this target ran (its kernels are alike).
  if (tp === undefined) for (const v of ctx.history.values()) tp = Math.max(tp ?? 0, v);
  return tp ? flops / tp : undefined;
}

export function remember(ctx: RunContext, key: string, flops: number, ms: number): void {
  if (ms > 0) ctx.history.set(key, flops / ms);
}

/**
 * Query rows to time for a dense run of `flopsPerRow` each (`bytesPerRow` of score matrix): all Sq (N for prefill)
 * when they fit the flop, memory and time budgets, else the largest power of two that does (at least min(Sq, 64)).
 * A peer (`peer`: what users would pick instead) runs all Sq rows wherever they fit the memory budget and the run
 * fits --max-run by this target's earlier throughput: its time is then measured, not extrapolated.
 */
export function denseRows(ctx: RunContext, key: string, flopsPerRow: number, bytesPerRow: number, flopBudget?: number, peer = false): number {
  const s = ctx.settings;
  const N = seqQ(ctx.case);
  const perRowMs = estimateMs(ctx, key, flopsPerRow);
  const memoryRows = bytesPerRow > 0 ? s.denseMemoryBytes / bytesPerRow : Number.POSITIVE_INFINITY;
  if (peer && memoryRows >= N && (perRowMs === undefined || perRowMs * N <= s.maxRunMs)) return N;
  let rows = Math.min((flopBudget ?? s.denseBudgetFlops) / flopsPerRow, memoryRows, perRowMs ? s.denseTargetMs / perRowMs : Number.POSITIVE_INFINITY);
  if (rows >= N) return N;
  rows = pow2floor(rows);
  return Math.min(N, Math.max(rows, 64));
}

export function skipReason(estMs: number | undefined, s: ChildSettings, what: string): string | null {
  if (estMs === undefined || estMs <= s.maxRunMs) return null;
  return `${what}: estimated ${(estMs / 1000).toFixed(1)} s per run (from this target's earlier runs, or a timed sample of the last rows) exceeds --max-run ${(s.maxRunMs / 1000).toFixed(0)} s`;
}

/**
 * Extrapolates a timing of the last `rows` rows to N from a second timing on `half` rows (see RowTiming): the
 * per-row slope comes from the fastest run of each (the least disturbed by other work), the measured part stays
 * the median: fullMs = median + slope · (N − rows).
 */
export function extrapolate(t: Timing, rows: number, N: number, half?: { rows: number; ms: number }): RowTiming {
  if (rows >= N) return { ...t, rows, extrapolated: false, fullMs: t.medianMs };
  const proportional = (t.medianMs * N) / rows;
  if (!half) return { ...t, rows, extrapolated: true, fullMs: proportional };
  const slope = (t.minMs - half.ms) / (rows - half.rows);
  const fixed = t.minMs - slope * rows;
  const linear = slope > 0 && fixed >= 0;
  return {
    ...t,
    rows,
    extrapolated: true,
    fullMs: linear ? t.medianMs + slope * (N - rows) : proportional,
    fit: {
      halfRows: half.rows,
      halfMs: half.ms,
      msPerRow: linear ? slope : t.medianMs / rows,
      fixedMs: linear ? fixed : 0,
      method: linear ? 'linear' : 'proportional',
    },
  };
}

/**
 * Times `prepare(rows)` (with the RSS peak), and when rows < N also `prepare(rows / 2)` for the extrapolation.
 * Returns the timing, the last result of the full-rows call and the memory figures.
 */
export async function timeRows<T>(
  ctx: RunContext,
  rows: number,
  prepare: (rows: number) => Promise<Prepared<T>> | Prepared<T>,
  timing: TimingSettings,
  options: MeasureOptions<T> = {},
): Promise<{ time: RowTiming; last: T; memory: MemoryFigures }> {
  const N = seqQ(ctx.case);
  const p = await prepare(rows);
  let result: { timing: Timing; last: T };
  let memory: MemoryFigures;
  try {
    collectGarbage();
    const before = ctx.sampler.reset();
    result = await measure(p.call, timing, {
      slowMs: ctx.settings.maxRunMs,
      budgetMs: ctx.settings.measureBudgetMs,
      before: p.before,
      timed: () => ctx.sampler.coarse(),
      ...options,
    });
    const peak = ctx.sampler.peak();
    const inputs = ctx.inputs.q.data.byteLength + ctx.inputs.k.data.byteLength + ctx.inputs.v.data.byteLength;
    memory = {
      baselineRssBytes: ctx.baselineRssBytes,
      rssBeforeBytes: before,
      peakRssBytes: peak,
      peakRssDeltaBytes: peak - before,
      peakTargetBytes: Math.max(0, peak - ctx.baselineRssBytes - inputs),
    };
  } finally {
    await p.release?.();
  }
  let half: { rows: number; ms: number } | undefined;
  if (rows < N && rows >= 32) {
    const h = await prepare(rows / 2);
    try {
      const reps = Math.max(1, timing.minReps);
      const r = await measure(
        h.call,
        { warmup: Math.max(1, timing.warmup), minReps: reps, maxReps: reps, minTimeMs: 0 },
        { budgetMs: ctx.settings.measureBudgetMs, before: h.before },
      );
      half = { rows: rows / 2, ms: r.timing.minMs };
    } finally {
      await h.release?.();
    }
  }
  return { time: extrapolate(result.timing, rows, N, half), last: result.last, memory };
}

export function errorText(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const msg = err?.message ?? String(e);
  return err?.code && !msg.includes(err.code) ? `${msg} [${err.code}]` : msg;
}

export type { TargetResult };

/** What a dense peer decides before timing: how many query rows to time (the rest is extrapolated), or why it skips. */
export interface DensePeerSetup {
  /** Keys Sk. */
  N: number;
  /** Query rows Sq (N for prefill). */
  Sq: number;
  D: number;
  group: number;
  flopsPerRow: number;
  rows: number;
  pattern: Pattern;
  scale: number;
}

export function densePeerSetup(ctx: RunContext): DensePeerSetup | { skip: string } {
  const c = ctx.case;
  const N = c.seq;
  const D = c.headDim;
  const flopsPerRow = 4 * c.headsQ * N * D;
  const rows = denseRows(ctx, 'dense', flopsPerRow, 3 * 4 * c.headsQ * N, undefined, true);
  const skip = skipReason(estimateMs(ctx, 'dense', flopsPerRow * rows), ctx.settings, `dense on ${rows} rows`);
  if (skip) return { skip };
  return { N, Sq: seqQ(c), D, group: c.headsQ / c.headsKv, flopsPerRow, rows, pattern: buildPattern(c), scale: 1 / Math.sqrt(D) };
}
