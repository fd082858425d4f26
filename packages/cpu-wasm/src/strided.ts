import type { AttentionPlan, AttentionRequest, AttentionResult } from '@sparse/core';
import { type Piece, type PieceSelection, shapeOf } from '@sparse/core/backend';
import * as A from './abi.js';
import { chunkPairBound, copiedBytes, memoryLimit, pieceArenaBytes } from './check.js';
import { balancedChunks } from './chunks.js';
import type { CpuWasmDevice } from './device.js';
import { dv8, layoutArena, WASM32_BYTES } from './layout.js';
import { ensureMemory } from './memory.js';
import { WorkerPool } from './pool.js';
import { chunkCount, chunkPairs, type PieceEnv, type PieceStats, parallelThreads, pieceStats, runPhases } from './run.js';
import { type ContextPlace, hostOperands, MAIN_CONTEXT, type Operands, type Strides, setTensor, strides, writeContext, writeLse } from './write.js';

/**
 * Where a strided call lies in the memory (64-byte aligned, from the resident region's end): the whole call's q, k,
 * v and out, and every residue group's Kᵀ blocks, V tiles and v flags (`blocks` key blocks per (batch entry, kv
 * head) and group, as a KV cache keeps them), with the residue prep's chunk table.
 */
interface StridedRegions {
  q: number;
  k: number;
  v: number;
  o: number;
  kt: number;
  vt: number;
  vbad: number;
  vbadBlock: number;
  chunks: number;
  /** The chained contexts of the groups after the first (which runs from CTX_PTR), CHAINED_CTX_BYTES each. */
  contexts: number;
  /** Key blocks per (batch entry, kv head) of a group: those of the group with the most keys. */
  blocks: number;
  /** Bytes of one group's part of kt, vt, vbad and vbadBlock. */
  group: { kt: number; vt: number; vbad: number; vbadBlock: number };
  end: number;
}

/** Key blocks per (batch entry, kv head) of a residue group: those of group 0, which has the most keys. */
const groupBlocks = (plan: AttentionPlan, d: number, blockK: number) => Math.ceil(Math.ceil(plan.seqK / d) / blockK);

/** The residue prep's tasks, one per (batch entry, kv head, key block of the groups). */
const residueTasks = (plan: AttentionPlan, d: number, blockK: number) => plan.batch * plan.headsKv * groupBlocks(plan, d, blockK);

function stridedRegions(plan: AttentionPlan, d: number, groups: number, blockK: number, chunkPairs: number, base: number): StridedRegions {
  const { batch: B, headsQ: Hq, headsKv: Hkv, seqQ: Sq, seqK: Sk, headDim: D, headDimV: Dv } = plan;
  let at = base;
  const take = (bytes: number) => {
    const start = Math.ceil(at / 64) * 64;
    at = start + bytes;
    return start;
  };
  const blocks = groupBlocks(plan, d, blockK);
  const heads = B * Hkv * blocks;
  const group = { kt: heads * blockK * D * 4, vt: heads * blockK * dv8(Dv) * 4, vbad: heads * blockK * 4, vbadBlock: heads * 4 };
  // 16 bytes of slack after every tensor the kernel reads or writes four floats at a time.
  const q = take(B * Hq * Sq * D * 4 + 16);
  const k = take(B * Hkv * Sk * D * 4 + 16);
  const v = take(B * Hkv * Sk * Dv * 4 + 16);
  const o = take(B * Hq * Sq * Dv * 4 + 16);
  const kt = take(d * group.kt);
  const vt = take(d * group.vt + 16);
  const vbad = take(d * group.vbad + 16);
  const vbadBlock = take(d * group.vbadBlock);
  const chunks = take(chunkPairs * 8);
  const contexts = take((groups - 1) * A.CHAINED_CTX_BYTES);
  return { q, k, v, o, kt, vt, vbad, vbadBlock, chunks, contexts, blocks, group, end: Math.ceil(at / 64) * 64 };
}

/**
 * Whether the whole call runs strided on this device: its copy stays under the bytes above which calls are split
 * into groups (`splitBytes`), and the whole call, every group's tiles and every group's arena (the groups run as one
 * chain, so their arenas lie side by side) fit the memory.
 */
export function fitsStrided(plan: AttentionPlan, pieces: readonly Piece[], device: CpuWasmDevice | null, env: PieceEnv, splitBytes: number): boolean {
  if (copiedBytes(plan) > splitBytes) return false;
  const d = pieces[0]!.select.stride;
  // The prep's chunk table: at most one pair per task, and at most what any thread count plans.
  const pairs = Math.min(residueTasks(plan, d, env.tiles.blockK), chunkPairBound(plan));
  const r = stridedRegions(plan, d, pieces.length, env.tiles.blockK, pairs, device?.heap.top ?? A.ARENA_BASE);
  let end = r.end;
  for (const p of pieces) end = pieceArenaBytes(p.plan, env, end, { q: true, k: true, v: true, o: true, kv: true });
  return end <= memoryLimit(device);
}

/** A pointer and strides that read a piece's rows of a whole [B, H, S, dim] tensor at `base`. */
function view(base: number, st: Strides, b0: number, h0: number, start: number, stride: number): { at: number; st: Strides } {
  return { at: base + (b0 * st.batch + h0 * st.head + start * st.row) * 4, st: { row: st.row * stride, head: st.head, batch: st.batch } };
}

/**
 * Runs every piece of a call (the residue groups of a dilated call) over one copy of its inputs: q, k and v are
 * copied into the memory once, synchronously. One prep phase reads K and V in order and writes every group's Kᵀ
 * blocks and V tiles (as a KV cache keeps them); then each group's attend phase reads its tiles, and its q and out
 * rows through strides (row stride · d), writing its out rows in place; lse rows are placed from each group's (m, l).
 */
export function runStrided(
  device: CpuWasmDevice,
  request: AttentionRequest,
  plan: AttentionPlan,
  pieces: readonly Piece[],
  signal: AbortSignal | undefined,
  env: PieceEnv,
): Promise<AttentionResult> {
  const t0 = performance.now();
  const { runner } = device;
  const { batch: B, headsQ: Hq, headsKv: Hkv, seqQ: Sq, seqK: Sk, headDim: D, headDimV: Dv, layout } = plan;
  const d = pieces[0]!.select.stride;
  const prepChunks = balancedChunks([[0, residueTasks(plan, d, env.tiles.blockK)]], () => 1, chunkCount(device));
  const regions = stridedRegions(plan, d, pieces.length, env.tiles.blockK, prepChunks.length >> 1, device.heap.top);
  ensureMemory(runner.memory, regions.end);
  const F = new Float32Array(runner.memory.buffer);
  F.set(request.q.data, regions.q >> 2);
  F.set(request.k.data, regions.k >> 2);
  F.set(request.v.data, regions.v >> 2);
  // Rows no piece covers (a residue group without keys) keep out = 0 and lse = -Infinity. The pieces are disjoint,
  // so when their rows add up to the call's, each group's attend writes every out row and the fill is not needed.
  const covered = pieces.reduce((n, p) => n + p.plan.batch * p.plan.headsQ * p.plan.seqQ, 0);
  if (covered < B * Hq * Sq) F.fill(0, regions.o >> 2, (regions.o >> 2) + B * Hq * Sq * Dv);
  new Int32Array(runner.memory.buffer).set(prepChunks, regions.chunks >> 2);
  const lse = plan.returnLse ? new Float32Array(B * Hq * Sq).fill(Number.NEGATIVE_INFINITY) : null;
  const qs = strides(layout, Hq, Sq, D);
  const ks = strides(layout, Hkv, Sk, D);
  const vs = strides(layout, Hkv, Sk, Dv);
  const os = strides(layout, Hq, Sq, Dv);
  const setup = performance.now() - t0;

  /**
   * The context of group `piece` at `place`, its arena from `base` (topk and attend only: its tiles are written by
   * the residue prep).
   */
  const writeGroup = (piece: Piece, fault: boolean, base: number, place: ContextPlace) => {
    const s = piece.select;
    const compiled = env.compiled(piece.plan);
    const planned = env.plans.chunks(piece.plan, compiled, chunkCount(device), parallelThreads(device), false);
    const arena = layoutArena({
      plan: piece.plan,
      table: compiled.table,
      tiles: env.tiles,
      threads: runner.threads,
      chunkPairs: chunkPairs(planned.chunks),
      splits: planned.chunks,
      labelJobs: planned.labelJobs,
      maxBytes: Math.min(WASM32_BYTES, runner.maxBytes),
      base,
      resident: { q: true, k: true, v: true, o: true, kv: true },
    });
    const grew = ensureMemory(runner.memory, arena.total);
    const at: Operands = hostOperands(piece.plan, arena, env.tiles);
    const h0 = s.kv0 * plan.group;
    const q = view(regions.q, qs, s.b0, h0, s.q0, s.stride);
    const o = view(regions.o, os, s.b0, h0, s.q0, s.stride);
    const r = s.k0;
    Object.assign(at, {
      q: q.at,
      qs: q.st,
      o: o.at,
      os: o.st,
      k: 0,
      kt: regions.kt + r * regions.group.kt,
      v: regions.vt + r * regions.group.vt,
      vbad: regions.vbad + r * regions.group.vbad,
      vbadBlock: regions.vbadBlock + r * regions.group.vbadBlock,
      ktBlocks: regions.blocks,
      transpose: false,
      vTiled: true,
    });
    writeContext(runner.memory, piece.plan, compiled.table, arena, planned.chunks, env.tiles, at, fault, place);
    return { compiled, planned, arena, grew };
  };

  return (async () => {
    // The residue prep: the first group's context, with the prep slots pointed at the whole K and V.
    const fault = env.takeFault();
    if (fault === 'kill-worker' && runner instanceof WorkerPool) runner.killOnNextAttend = 0;
    writeGroup(pieces[0]!, false, regions.end, MAIN_CONTEXT);
    const I = new Int32Array(runner.memory.buffer);
    const set = (slot: number, value: number) => {
      I[(A.CTX_PTR >> 2) + slot] = value;
    };
    set(A.C_RESIDUES, d);
    set(A.C_RES_BLOCKS, regions.blocks);
    set(A.C_RES_KT, regions.kt);
    set(A.C_RES_VT, regions.vt);
    set(A.C_RES_VBAD, regions.vbad);
    set(A.C_RES_VBAD_BLOCK, regions.vbadBlock);
    set(A.C_SK, Sk);
    setTensor(runner.memory, A.C_K, regions.k, ks);
    setTensor(runner.memory, A.C_V, regions.v, vs);
    set(A.C_PREP_CHUNKS, regions.chunks);
    set(A.C_PREP_N, prepChunks.length >> 1);
    const prepMs = (await runPhases(device, [A.PHASE_PREP], signal, setup)).prep;

    // Every group's context, chained from CTX_PTR (C_NEXT), each arena after the previous one: one dispatch per phase
    // runs them all, a thread going on to the next group as soon as it finds the current one's tasks all taken.
    const w0 = performance.now();
    const groups: { piece: Piece; written: ReturnType<typeof writeGroup> }[] = [];
    let base = regions.end;
    let previous = 0;
    for (const [i, piece] of pieces.entries()) {
      const ctx = i === 0 ? A.CTX_PTR : regions.contexts + (i - 1) * A.CHAINED_CTX_BYTES;
      const place = i === 0 ? MAIN_CONTEXT : { ctx, counters: ctx + A.CTX_SLOTS * 4 };
      const written = writeGroup(piece, fault === 'trap' && i === 0, base, place);
      if (i > 0) new Int32Array(runner.memory.buffer)[(previous >> 2) + A.C_NEXT] = ctx;
      groups.push({ piece, written });
      base = written.arena.total;
      previous = ctx;
    }
    const phases = ([A.PHASE_PREP, A.PHASE_TOPK, A.PHASE_ATTEND] as const).filter((p) => groups.some((g) => g.written.planned.phases.includes(p)));
    const ms = await runPhases(device, phases, signal, performance.now() - w0);

    // lastRun(): the whole call, its groups' figures summed.
    const sum = { setup: setup + ms.setup, prep: prepMs + ms.prep, topk: ms.topk, attend: ms.attend, read: 0, total: 0 };
    let nnz = 0;
    let grewAny = false;
    let stats: PieceStats | null = null;
    const r0 = performance.now();
    for (const { piece, written } of groups) {
      const { compiled, planned, arena, grew } = written;
      if (lse) placeLse(runner.memory, piece, arena, plan, lse);
      // The last group's arena ends where the call's memory does (arenaBytes: the whole extent).
      stats = pieceStats(piece.plan, compiled.table, arena, grew, ms, planned.chunks, true);
      nnz += stats.nnz;
      grewAny ||= grew;
    }
    const out = new Float32Array(runner.memory.buffer, regions.o, B * Hq * Sq * Dv).slice();
    sum.read = performance.now() - r0;
    sum.total = performance.now() - t0;
    if (stats) device.last = { ...stats, nnz, grew: grewAny, phaseMs: sum };
    const result: AttentionResult = { out: { data: out, shape: shapeOf(layout, B, Hq, Sq, Dv) } };
    if (lse) result.lse = { data: lse, shape: [B, Hq, Sq] };
    return result;
  })();
}

/** The piece's lse rows (from its (m, l)) into the call's lse [B, Hq, Sq] at rows q0, q0 + stride, … */
function placeLse(memory: WebAssembly.Memory, piece: Piece, arena: Parameters<typeof writeLse>[2], plan: AttentionPlan, into: Float32Array): void {
  const p = piece.plan;
  const s: PieceSelection = piece.select;
  const rows = new Float32Array(p.batch * p.headsQ * p.seqQ);
  writeLse(memory, p, arena, rows);
  const h0 = s.kv0 * plan.group;
  for (let b = 0; b < p.batch; b++)
    for (let h = 0; h < p.headsQ; h++)
      for (let i = 0; i < p.seqQ; i++) into[((s.b0 + b) * plan.headsQ + h0 + h) * plan.seqQ + s.q0 + i * s.stride] = rows[(b * p.headsQ + h) * p.seqQ + i]!;
}
