import type { AttentionPlan, AttentionRequest, AttentionResult } from '@sparse/core';
import { type Piece, type PieceSelection, shapeOf } from '@sparse/core/backend';
import { copiedBytes, memoryLimit, pieceArenaBytes } from './check.js';
import type { CpuWasmDevice } from './device.js';
import { layoutArena, WASM32_BYTES } from './layout.js';
import { ensureMemory } from './memory.js';
import { WorkerPool } from './pool.js';
import { chunkCount, chunkPairs, type PieceEnv, parallelThreads, pieceStats, runPhases } from './run.js';
import { hostOperands, type Operands, type Strides, strides, writeContext, writeLse } from './write.js';

/** Where the whole call's q, k, v and out lie in the memory (64-byte aligned, from the resident region's end). */
interface WholeRegions {
  q: number;
  k: number;
  v: number;
  o: number;
  end: number;
}

function wholeRegions(plan: AttentionPlan, base: number): WholeRegions {
  const { batch: B, headsQ: Hq, headsKv: Hkv, seqQ: Sq, seqK: Sk, headDim: D, headDimV: Dv } = plan;
  let at = base;
  const take = (bytes: number) => {
    const start = Math.ceil(at / 64) * 64;
    at = start + bytes;
    return start;
  };
  // 16 bytes of slack after every tensor the kernel reads or writes four floats at a time.
  const q = take(B * Hq * Sq * D * 4 + 16);
  const k = take(B * Hkv * Sk * D * 4 + 16);
  const v = take(B * Hkv * Sk * Dv * 4 + 16);
  const o = take(B * Hq * Sq * Dv * 4 + 16);
  return { q, k, v, o, end: Math.ceil(at / 64) * 64 };
}

/**
 * Whether the whole call runs strided on this device: its copy stays under the bytes above which calls are split
 * into groups (`splitBytes`), and the whole inputs plus the largest piece's arena fit the memory.
 */
export function fitsStrided(plan: AttentionPlan, pieces: readonly Piece[], device: CpuWasmDevice | null, env: PieceEnv, splitBytes: number): boolean {
  if (copiedBytes(plan) > splitBytes) return false;
  const whole = wholeRegions(plan, device?.heap.top ?? 0);
  let most = 0;
  for (const p of pieces) most = Math.max(most, pieceArenaBytes(p.plan, env, whole.end, { q: true, k: true, v: true, o: true }));
  return most <= Math.min(memoryLimit(device), WASM32_BYTES);
}

/** A pointer and strides that read a piece's rows of a whole [B, H, S, dim] tensor at `base`. */
function view(base: number, st: Strides, b0: number, h0: number, start: number, stride: number): { at: number; st: Strides } {
  return { at: base + (b0 * st.batch + h0 * st.head + start * st.row) * 4, st: { row: st.row * stride, head: st.head, batch: st.batch } };
}

/**
 * Runs every piece of a call (the residue groups of a dilated call) over one copy of its inputs: q, k and v are
 * copied into the memory once, synchronously, and each piece's context points the kernel at its rows through
 * strides (row stride · dilation), writing its out rows in place; lse rows are placed from each piece's (m, l).
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
  const whole = wholeRegions(plan, device.heap.top);
  ensureMemory(runner.memory, whole.end);
  const F = new Float32Array(runner.memory.buffer);
  F.set(request.q.data, whole.q >> 2);
  F.set(request.k.data, whole.k >> 2);
  F.set(request.v.data, whole.v >> 2);
  // Rows no piece covers (a residue group without keys) keep out = 0 and lse = -Infinity.
  F.fill(0, whole.o >> 2, (whole.o >> 2) + B * Hq * Sq * Dv);
  const lse = plan.returnLse ? new Float32Array(B * Hq * Sq).fill(Number.NEGATIVE_INFINITY) : null;
  const qs = strides(layout, Hq, Sq, D);
  const ks = strides(layout, Hkv, Sk, D);
  const vs = strides(layout, Hkv, Sk, Dv);
  const os = strides(layout, Hq, Sq, Dv);
  const setup = performance.now() - t0;

  return (async () => {
    for (const piece of pieces) {
      const p0 = performance.now();
      const s = piece.select;
      const compiled = env.compiled(piece.plan);
      const { chunks, phases, labelJobs } = env.plans.chunks(piece.plan, compiled, chunkCount(device), parallelThreads(device));
      const arena = layoutArena({
        plan: piece.plan,
        table: compiled.table,
        tiles: env.tiles,
        threads: runner.threads,
        chunkPairs: chunkPairs(chunks),
        splits: chunks,
        labelJobs,
        maxBytes: Math.min(WASM32_BYTES, runner.maxBytes),
        base: whole.end,
        resident: { q: true, k: true, v: true, o: true },
      });
      const grew = ensureMemory(runner.memory, arena.total);
      const at: Operands = hostOperands(piece.plan, arena, env.tiles);
      const h0 = s.kv0 * plan.group;
      const q = view(whole.q, qs, s.b0, h0, s.q0, s.stride);
      const k = view(whole.k, ks, s.b0, s.kv0, s.k0, s.stride);
      const v = view(whole.v, vs, s.b0, s.kv0, s.k0, s.stride);
      const o = view(whole.o, os, s.b0, h0, s.q0, s.stride);
      Object.assign(at, { q: q.at, qs: q.st, k: k.at, ks: k.st, v: v.at, vs: v.st, o: o.at, os: o.st });
      const fault = env.takeFault();
      if (fault === 'kill-worker' && runner instanceof WorkerPool) runner.killOnNextAttend = 0;
      writeContext(runner.memory, piece.plan, compiled.table, arena, chunks, env.tiles, at, fault === 'trap');
      const phaseMs = await runPhases(device, phases, signal, performance.now() - p0 + (piece === pieces[0] ? setup : 0));
      const r0 = performance.now();
      if (lse) placeLse(runner.memory, piece, arena, plan, lse);
      phaseMs.read = performance.now() - r0;
      phaseMs.total = performance.now() - p0;
      device.last = pieceStats(piece.plan, compiled.table, arena, grew, phaseMs, chunks, true);
    }
    const out = new Float32Array(runner.memory.buffer, whole.o, B * Hq * Sq * Dv).slice();
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
