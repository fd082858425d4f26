import type { AttentionPlan } from '@sparse/core';
import type { Refusal } from '@sparse/core/backend';
import type { CpuWasmDevice } from './device.js';
import { layoutArena, resourceSentence, WASM32_BYTES } from './layout.js';
import { MAX_THREADS } from './options.js';
import { labelJobCount } from './pack.js';
import { CHUNKS_PER_THREAD } from './plan.js';
import type { PieceEnv } from './run.js';

/**
 * Bytes a piece copies into and out of wasm memory: q, out, k (and its transpose), v. The wasm memory holds a copy
 * of everything a piece reads and writes, so for a large call that copy doubles the process's footprint: above
 * `splitBytes` the kit runs it as pieces over (batch entry, kv-head) groups, and the memory holds one group. `keys`: the
 * keys a call copies (those of the key blocks its heads list, when that is fewer than all; see plans.ts).
 */
export function copiedBytes(p: AttentionPlan, keys = p.seqK): number {
  return 4 * (p.batch * p.headsQ * p.seqQ * (p.headDim + p.headDimV) + p.batch * p.headsKv * Math.min(keys, p.seqK) * (2 * p.headDim + p.headDimV));
}

/** Chunk-table pairs reserved per phase: at least what any thread count plans (see plan.ts). */
export const chunkPairBound = (p: AttentionPlan) => MAX_THREADS * CHUNKS_PER_THREAD + p.headsQ + 1;

/**
 * The one resource check of supports() and attention(), per piece: refused when the piece cannot fit the memory
 * even with a single scratch area. The limit is what the started device's memory may grow to, else the 4 GiB a
 * wasm32 memory can address. The arena starts past the device's resident tensors.
 */
export function checkPiece(plan: AttentionPlan, device: CpuWasmDevice | null, env: PieceEnv): Refusal | null {
  const total = pieceArenaBytes(plan, env, device?.heap.top);
  const limit = memoryLimit(device);
  return total > limit ? { code: 'RESOURCE_LIMIT', field: 'request', message: resourceSentence(total, limit) } : null;
}

/** The most bytes the memory may hold: what the started device's memory may grow to, else what wasm32 addresses. */
export function memoryLimit(device: CpuWasmDevice | null): number {
  return Math.min(WASM32_BYTES, device?.runner.maxBytes ?? WASM32_BYTES);
}

/**
 * The end of a piece's arena with one scratch area, laid out from `base` (default: an empty resident region), with
 * `resident` inputs and output not laid out (they lie elsewhere in the memory).
 */
export function pieceArenaBytes(
  plan: AttentionPlan,
  env: PieceEnv,
  base?: number,
  resident?: { q?: boolean; k?: boolean; v?: boolean; o?: boolean; kv?: boolean },
): number {
  const table = env.headTable(plan);
  const bound = chunkPairBound(plan);
  return layoutArena({
    plan,
    table,
    tiles: env.tiles,
    threads: 1,
    chunkPairs: { prep: bound, topk: bound, attend: bound },
    // Split-K runs fewer than 2 tasks per thread, in at most 2 · threads splits each: under 4 · threads records.
    splits: { tasks: 2 * MAX_THREADS, splits: 2 },
    labelJobs: labelJobCount(plan, table),
    maxBytes: Number.POSITIVE_INFINITY,
    ...(base !== undefined ? { base } : {}),
    ...(resident ? { resident } : {}),
  }).total;
}
