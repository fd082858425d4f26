import type { CaseStats } from './stats.js';
import type { Timing, TimingSettings } from './timing.js';
import type { BenchCase } from './workloads.js';

/** Library backends (loaded through loadBackend of @sparse/core/registry) and the peers measured beside them. */
export const BACKEND_NAMES = ['reference', 'cpu-wasm', 'webgpu', 'cuda-native', 'tfjs'] as const;
export const PEER_NAMES = ['ort-dense', 'ort-gqa', 'tfjs-wasm-dense', 'plain-js'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export type PeerName = (typeof PEER_NAMES)[number];

export interface TargetSpec {
  kind: 'backend' | 'peer';
  name: BackendName | PeerName | string;
  /** Requested threads, for targets that take a thread count; null for single-threaded or GPU targets. */
  threads: number | null;
  /** Unique label in the tables: `cpu-wasm@2t`, `ort-dense@2t`, `reference`, `webgpu@software`. */
  label: string;
  /** webgpu only (--webgpu-software): create it with `{ software: true }`, so it may run on a software adapter. */
  software?: boolean;
  /**
   * cpu-wasm only: `'kv-cache'` runs decode with the cache resident in the backend (`cpu-wasm kv-cache@1t`, see
   * `src/targets/calls.ts`); such a target runs decode workloads only.
   */
  variant?: 'kv-cache';
}

export interface TargetInfo {
  label: string;
  name: string;
  kind: 'backend' | 'peer';
  available: boolean;
  reason?: string;
  device?: string;
  /** Threads the target actually runs on (1 for single-threaded ones), null for GPU targets. */
  threads: number | null;
  description: string;
  version?: string;
  /** Extra facts (e.g. the wasm SIMD128 peak measured by cpu-wasm's micro-benchmark; webgpu's softwareAdapter). */
  extra?: Record<string, unknown>;
  /**
   * A caveat that applies to every figure of this target (e.g. "software adapter (SwiftShader) — not a GPU
   * figure"): the orchestrator adds it to the notes of each of its results, the reports show it beside them.
   */
  notice?: string;
}

/** Settings the orchestrator hands every child. */
export interface ChildSettings {
  timing: TimingSettings;
  denseTiming: TimingSettings;
  /** A run estimated (from this target's earlier throughput on the pattern) to take longer is skipped; a first run that takes longer is the only one. */
  maxRunMs: number;
  /** Time one measurement may take: the repetitions are cut to fit it (at least one after the warm-up). */
  measureBudgetMs: number;
  /** Dense baselines and dense peers are measured on at most this many flops' worth of query rows… */
  denseBudgetFlops: number;
  /** …on at most as many rows as this target's earlier throughput says fit in this time… */
  denseTargetMs: number;
  /** …and at most this many bytes of score matrix (dense peers). */
  denseMemoryBytes: number;
  /** core's float64 reference backend runs only up to this many flops per run (sparse and dense). */
  referenceMaxFlops: number;
  /** Rows checked against core's float64 referenceRows per run. */
  checkRows: number;
}

export type Status = 'ok' | 'unavailable' | 'unsupported' | 'n/a' | 'skipped' | 'failed' | 'timeout';

/**
 * A timing of the last `rows` query rows (keys: all N). When rows < N it is extrapolated to N: a second timing
 * on rows/2 gives a per-row slope and a fixed part (input copies, sessions, kv-cache concatenation), from the
 * fastest run of each, and fullMs = medianMs + slope · (N − rows); where the two timings disagree with that
 * model (noise) it falls back to medianMs · N / rows, which can only overestimate.
 */
export interface RowTiming extends Timing {
  rows: number;
  extrapolated: boolean;
  fullMs: number;
  /** halfMs: the fastest run on halfRows rows; fixedMs + msPerRow · rows fits the fastest runs. */
  fit?: { halfRows: number; halfMs: number; msPerRow: number; fixedMs: number; method: 'linear' | 'proportional' };
}

export interface MemoryFigures {
  /** RSS of the target's process after loading the target, before any case (runtime, libraries). */
  baselineRssBytes: number;
  /** RSS right before the runs (after a GC; the inputs allocated). */
  rssBeforeBytes: number;
  /** Highest RSS during the runs (sampled about every millisecond by a worker thread). */
  peakRssBytes: number;
  /** peak − before: growth during the runs (a lower bound where the target keeps pools from earlier cases). */
  peakRssDeltaBytes: number;
  /** peak − baseline − the caller's input arrays: what the target itself holds at its peak (copies of inputs, outputs, masks, scratch, pools). */
  peakTargetBytes: number;
  /** tf.js targets: tf.profile's peakBytes of one call, and tf.memory().numBytes after it. */
  tfPeakBytes?: number;
  tfNumBytes?: number;
}

export interface CheckFigures {
  rows: number;
  maxAbsErr: number;
  ok: boolean;
}

export interface TargetResult {
  status: Status;
  reason?: string;
  time?: RowTiming;
  /** The same target's dense kernel (pattern dense), for speedup and η. */
  dense?: RowTiming;
  denseStatus?: { status: Status; reason: string };
  memory?: MemoryFigures;
  check?: CheckFigures;
  notes?: string[];
}

/** Derived figures the orchestrator adds (GFLOP/s, speedup, η). */
export interface ScoredResult extends TargetResult {
  target: string;
  /** Wall time the harness spent on this target and case (all runs, checks, baselines), ms. */
  wallMs?: number;
  timeMs?: number;
  gflops?: number;
  /** Effective GB/s: the bytes the pattern requires reading (K and V rows of the keys read, every kv head) plus q and out, / time. */
  gbps?: number;
  /** time / (required bytes / the machine's measured bandwidth): 1 = at the bandwidth limit, 3 = three times the bandwidth-bound time. */
  bandwidthRatio?: number;
  speedup?: number;
  /** Which dense time the speedup divides: 'self' (same backend) or a peer label. */
  speedupBase?: string;
  eta?: number;
}

export interface CaseRecord {
  case: BenchCase;
  description: string;
  stats: CaseStats;
  results: ScoredResult[];
}

export type ToChild =
  | { type: 'init'; spec: TargetSpec; settings: ChildSettings }
  | { type: 'run'; case: BenchCase; stats: CaseStats }
  /** Drop the cached inputs (the next cases have another shape): idle children should not hold gigabytes. */
  | { type: 'release' }
  | { type: 'exit' };

export type FromChild =
  | { type: 'info'; info: TargetInfo }
  | { type: 'phase'; caseId: string; phase: string }
  | { type: 'result'; caseId: string; result: TargetResult };
