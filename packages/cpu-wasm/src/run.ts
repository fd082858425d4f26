import type { AttentionPlan, AttentionRequest, AttentionResult, TileSizes } from '@sparse/core';
import { abortedError, type HeadTable } from '@sparse/core/backend';
import { RC_ABORTED } from './abi.js';
import type { CpuWasmDevice } from './device.js';
import { PHASE_NAMES, type Phase } from './instance.js';
import { type Arena, layoutArena, WASM32_BYTES } from './layout.js';
import { ensureMemory } from './memory.js';
import { CHUNKS_PER_THREAD, INLINE_CHUNKS } from './plan.js';
import type { CompiledCall, PlanCache } from './plans.js';
import { WorkerPool } from './pool.js';
import { KernelFailure } from './translate.js';
import { type CallChunks, raiseAbort, readResult, writeCall } from './write.js';

/**
 * Figures of one piece, for benchmarks and diagnostics (in lastRun(): those of the call's last piece, or for a call
 * run in place over its residue groups, `inPlace`, the whole call's: nnz and phaseMs summed over the groups).
 */
export interface PieceStats {
  /** Bytes of wasm memory the piece laid out (inputs, outputs, Kᵀ, masks, tables, scratch). */
  arenaBytes: number;
  /** Whether the memory had to grow for it. */
  grew: boolean;
  /** Allowed (query, key) pairs over all (batch, head), from the compiled masks (within, for content-based heads). */
  nnz: number;
  /** Bytes of the distinct compiled masks. */
  maskBytes: number;
  /**
   * Query heads per attention task: 1, or with one query row (decode) and the heads of each kv group sharing one
   * pattern, the heads packed together so the group's keys and values are read once for all of them.
   */
  headsPerTask: number;
  /** Key splits per attention task: 1, or with fewer tasks than the threads can share, split-K (merged by LSE). */
  keySplits: number;
  /**
   * Whether the call's pieces (the residue groups of a dilated call) read one copy of its inputs through strides,
   * rather than copies gathered for each piece.
   */
  inPlace: boolean;
  /**
   * Milliseconds: `setup` (head table, layout, copying the inputs in, on the calling thread), each phase, `read`
   * (copying the results out), and `total`.
   */
  phaseMs: { setup: number; prep: number; topk: number; attend: number; read: number; total: number };
}

/** A fault drill armed by injectFault(), taken by the next piece. */
export type Fault = 'trap' | 'kill-worker';

export interface PieceEnv {
  tiles: TileSizes;
  /** The head table of a piece plan (packed through the mask cache). */
  headTable(plan: AttentionPlan): HeadTable;
  /** The compiled call of a plan (head table and chunk plans), from the plan cache. */
  compiled(plan: AttentionPlan): CompiledCall;
  plans: PlanCache;
  /** The armed fault drill, if any (taking it disarms it). */
  takeFault(): Fault | null;
}

/**
 * Runs one piece: lays it out in the memory and copies its inputs in, synchronously (the request's arrays are
 * not read after this returns its promise), then runs the phases and reads the result out.
 */
export function runPiece(
  device: CpuWasmDevice,
  request: AttentionRequest,
  plan: AttentionPlan,
  signal: AbortSignal | undefined,
  env: PieceEnv,
): Promise<AttentionResult> {
  const t0 = performance.now();
  const { runner } = device;
  const { tiles } = env;
  const compiled = env.compiled(plan);
  const { table } = compiled;
  const { chunks, phases, labelJobs } = env.plans.chunks(plan, compiled, chunkCount(device), parallelThreads(device));
  const arena = layoutArena({
    plan,
    table,
    tiles,
    threads: runner.threads,
    chunkPairs: chunkPairs(chunks),
    splits: chunks,
    labelJobs,
    maxBytes: Math.min(WASM32_BYTES, runner.maxBytes),
    base: device.heap.top,
  });
  const grew = ensureMemory(runner.memory, arena.total);
  const fault = env.takeFault();
  if (fault === 'kill-worker' && runner instanceof WorkerPool) runner.killOnNextAttend = 0;
  writeCall(runner.memory, request, plan, table, arena, chunks, tiles, fault === 'trap', compiled.keyBlocks);
  const setup = performance.now() - t0;

  return (async () => {
    const phaseMs = await runPhases(device, phases, signal, setup);
    const r0 = performance.now();
    const result = readResult(runner.memory, plan, arena);
    phaseMs.read = performance.now() - r0;
    phaseMs.total = performance.now() - t0;
    device.last = pieceStats(plan, table, arena, grew, phaseMs, chunks);
    return result;
  })();
}

/** Threads that run a call's tasks at the same time (1 on the calling thread). */
export function parallelThreads(device: CpuWasmDevice): number {
  return device.runner.shared ? device.runner.threads : 1;
}

/** Chunks a call is split into on this device (several per worker thread; slices on the calling thread). */
export function chunkCount(device: CpuWasmDevice): number {
  return device.runner.shared ? device.runner.threads * CHUNKS_PER_THREAD : INLINE_CHUNKS;
}

/** Chunk-table pairs of each phase. */
export function chunkPairs(chunks: CallChunks): { prep: number; topk: number; attend: number } {
  return { prep: chunks.prep.length >> 1, topk: chunks.topk.length >> 1, attend: chunks.attend.length >> 1 };
}

/** The figures of a piece for lastRun(). */
export function pieceStats(
  plan: AttentionPlan,
  table: HeadTable,
  arena: Arena,
  grew: boolean,
  phaseMs: PieceStats['phaseMs'],
  chunks: CallChunks,
  inPlace = false,
): PieceStats {
  return {
    arenaBytes: arena.total,
    grew,
    nnz: table.nnz * plan.batch,
    maskBytes: table.masks.reduce((a, m) => a + m.stats.bytes, 0),
    headsPerTask: chunks.headPack,
    keySplits: chunks.splits,
    inPlace,
    phaseMs,
  };
}

/** Runs the phases of a call written into the memory (context and operands); an abort or a failure throws. */
export async function runPhases(
  device: CpuWasmDevice,
  phases: readonly Phase[],
  signal: AbortSignal | undefined,
  setup: number,
): Promise<PieceStats['phaseMs']> {
  const { runner } = device;
  await runner.ready();
  if (signal?.aborted) throw abortedError();
  const onAbort = () => raiseAbort(runner.memory);
  signal?.addEventListener('abort', onAbort);
  const phaseMs = { setup, prep: 0, topk: 0, attend: 0, read: 0, total: 0 };
  runner.hold(true);
  try {
    for (const phase of phases) {
      const p0 = performance.now();
      const outcomes = await runner.run(phase, signal);
      phaseMs[PHASE_NAMES[phase]] = performance.now() - p0;
      if (outcomes.some((o) => !o.ok)) throw new KernelFailure(outcomes);
      if (outcomes.some((o) => o.ok && o.rc === RC_ABORTED) || signal?.aborted) throw abortedError();
    }
  } finally {
    runner.hold(false);
    signal?.removeEventListener('abort', onAbort);
    if (runner instanceof WorkerPool) runner.killOnNextAttend = -1;
  }
  return phaseMs;
}
