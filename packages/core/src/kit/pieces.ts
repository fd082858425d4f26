// How one call becomes the pieces a device runs: residue groups (dilation by partition) and, inside each, groups
// of (batch entry, kv heads) when the device says a piece would hold too much. Both are one mechanism: a piece is
// a selection of batch entries, kv heads (with their query heads), and strided query and key rows, with a plan
// derived from the call's (its patterns are the call's, validated once; nothing is re-planned).
import { residuePartition } from '../partition.js';
import { type AttentionPlan, type AttentionRequest, type AttentionResult, ownedRequest } from '../request.js';
import { type HostTensor, type Layout, shapeOf } from '../tensor.js';

/** Which part of the call a piece covers. */
export interface PieceSelection {
  /** Batch entries [b0, b1). */
  b0: number;
  b1: number;
  /** kv heads [kv0, kv1) and their query heads [kv0·group, kv1·group). */
  kv0: number;
  kv1: number;
  /** Query rows q0, q0 + stride, … (qCount of them) and keys k0, k0 + stride, … (kCount). */
  q0: number;
  qCount: number;
  k0: number;
  kCount: number;
  stride: number;
}

export interface Piece {
  /** The piece's own plan: its sizes, its heads' patterns (undilated in a residue group), its query offset. */
  plan: AttentionPlan;
  select: PieceSelection;
}

export interface PieceOptions {
  /** Run a call whose heads are all dilated with one dilation d as d residue groups (default true). */
  partitionDilation?: boolean;
  /** Bytes the device would hold for a piece with this plan; with `maxPieceBytes` it bounds a piece. */
  pieceBytes?: (plan: AttentionPlan) => number;
  /** Above this, a piece is split into groups of (batch entry, kv heads); a single kv head is never split. */
  maxPieceBytes?: number;
}

/** The plan of a selection of `plan` (sizes, patterns of the heads it keeps, offset); `patterns` replaces the heads' patterns. */
function derivePlan(plan: AttentionPlan, s: PieceSelection, patterns: AttentionPlan['patterns'], offset: number): AttentionPlan {
  return {
    ...plan,
    batch: s.b1 - s.b0,
    headsQ: (s.kv1 - s.kv0) * plan.group,
    headsKv: s.kv1 - s.kv0,
    seqQ: s.qCount,
    seqK: s.kCount,
    offset,
    patterns: patterns.slice(s.kv0 * plan.group, s.kv1 * plan.group),
  };
}

/** Whether a piece is the whole call (the device can then read the caller's tensors as they are). */
export function isWhole(plan: AttentionPlan, s: PieceSelection): boolean {
  return s.b0 === 0 && s.b1 === plan.batch && s.kv0 === 0 && s.kv1 === plan.headsKv && s.stride === 1 && s.qCount === plan.seqQ && s.kCount === plan.seqK;
}

/**
 * The pieces a call runs as, in order. A residue group without keys is left out: its query rows keep out = 0
 * and lse = -Infinity (the result starts that way).
 */
export function planPieces(plan: AttentionPlan, options: PieceOptions = {}): Piece[] {
  const all = { b0: 0, b1: plan.batch, kv0: 0, kv1: plan.headsKv };
  const partition = options.partitionDilation === false ? null : residuePartition(plan);
  const groups: Piece[] = partition
    ? partition.groups
        .filter((g) => g.kCount > 0)
        .map((g) => {
          const select = { ...all, q0: g.q0, qCount: g.qCount, k0: g.k0, kCount: g.kCount, stride: partition.dilation };
          return { select, plan: derivePlan(plan, select, partition.patterns, g.queryOffset) };
        })
    : [{ select: { ...all, q0: 0, qCount: plan.seqQ, k0: 0, kCount: plan.seqK, stride: 1 }, plan }];
  const { pieceBytes, maxPieceBytes } = options;
  if (!pieceBytes || maxPieceBytes === undefined) return groups;
  return groups.flatMap((piece) => splitByHeads(plan, piece, pieceBytes, maxPieceBytes));
}

/**
 * Splits a piece covering every head into (batch entry, kv-head range) groups that each hold at most `max` bytes
 * (a single kv head is kept whole whatever it holds).
 */
function splitByHeads(parent: AttentionPlan, piece: Piece, bytes: (p: AttentionPlan) => number, max: number): Piece[] {
  const { plan, select } = piece;
  if (plan.batch * plan.headsKv === 1 || bytes(plan) <= max) return [piece];
  const one = { ...select, b1: select.b0 + 1, kv1: select.kv0 + 1 };
  const perHead = bytes(derivePlan(parent, one, piece.plan.patterns, plan.offset));
  const width = Math.max(1, Math.min(plan.headsKv, Math.floor(max / perHead)));
  const out: Piece[] = [];
  for (let b = select.b0; b < select.b1; b++)
    for (let kv0 = select.kv0; kv0 < select.kv1; kv0 += width) {
      const s = { ...select, b0: b, b1: b + 1, kv0, kv1: Math.min(select.kv1, kv0 + width) };
      out.push({ select: s, plan: derivePlan(parent, s, piece.plan.patterns, plan.offset) });
    }
  return out;
}

/** Copies `count` runs of `len` floats from src (from, from + srcStep, …) to dst (to, to + dstStep, …). */
function copyRuns(src: Float32Array, from: number, srcStep: number, dst: Float32Array, to: number, dstStep: number, count: number, len: number): void {
  if (srcStep === len && dstStep === len) {
    dst.set(src.subarray(from, from + count * len), to);
    return;
  }
  // subarray().set() per run: measured faster than an element loop even for runs of 64 floats.
  for (let n = 0; n < count; n++, from += srcStep, to += dstStep) dst.set(src.subarray(from, from + len), to);
}

/** Where a selection's rows lie in a [B, H, S, D] tensor in `layout`, and where they go in the packed piece. */
function walk(
  layout: Layout,
  H: number,
  S: number,
  D: number,
  s: { b0: number; b1: number; h0: number; h1: number; start: number; stride: number; count: number },
  visit: (full: number, fullStep: number, piece: number, pieceStep: number, count: number, len: number) => void,
): void {
  const nh = s.h1 - s.h0;
  for (let b = s.b0; b < s.b1; b++) {
    const pb = (b - s.b0) * nh * s.count * D;
    if (layout === 'bhsd') for (let h = s.h0; h < s.h1; h++) visit(((b * H + h) * S + s.start) * D, s.stride * D, pb + (h - s.h0) * s.count * D, D, s.count, D);
    // bshd: one sequence position of the selected heads is contiguous (nh · D floats).
    else visit(((b * S + s.start) * H + s.h0) * D, s.stride * H * D, pb, nh * D, s.count, nh * D);
  }
}

function rows(plan: AttentionPlan, s: PieceSelection, which: 'q' | 'k') {
  const [h0, h1] = which === 'q' ? [s.kv0 * plan.group, s.kv1 * plan.group] : [s.kv0, s.kv1];
  return which === 'q'
    ? { b0: s.b0, b1: s.b1, h0, h1, start: s.q0, stride: s.stride, count: s.qCount }
    : { b0: s.b0, b1: s.b1, h0, h1, start: s.k0, stride: s.stride, count: s.kCount };
}

function gather(t: HostTensor, layout: Layout, H: number, S: number, D: number, sel: ReturnType<typeof rows>): HostTensor {
  const data = new Float32Array((sel.b1 - sel.b0) * (sel.h1 - sel.h0) * sel.count * D);
  walk(layout, H, S, D, sel, (full, fullStep, piece, pieceStep, count, len) => copyRuns(t.data, full, fullStep, data, piece, pieceStep, count, len));
  return { data, shape: shapeOf(layout, sel.b1 - sel.b0, sel.h1 - sel.h0, sel.count, D) };
}

/**
 * The piece's inputs as a request of their own (private copies: the caller's arrays are free once this returns),
 * with the piece plan's patterns and resolved options; a piece that is the whole call gets copies of the whole arrays.
 */
export function gatherPiece(request: AttentionRequest, parent: AttentionPlan, piece: Piece): AttentionRequest {
  const { plan, select } = piece;
  const p = parent;
  const whole = isWhole(parent, select);
  const resolved = { pattern: plan.patterns, scale: plan.scale, queryOffset: plan.offset, layout: plan.layout, returnLse: plan.returnLse };
  if (whole) return { ...ownedRequest(request, p), ...resolved };
  return {
    q: gather(request.q, p.layout, p.headsQ, p.seqQ, p.headDim, rows(p, select, 'q')),
    k: gather(request.k, p.layout, p.headsKv, p.seqK, p.headDim, rows(p, select, 'k')),
    v: gather(request.v, p.layout, p.headsKv, p.seqK, p.headDimV, rows(p, select, 'k')),
    ...resolved,
  };
}

/** A result of the call's size: out = 0 and lse = -Infinity everywhere (what rows without keys keep). */
export function emptyResult(plan: AttentionPlan): AttentionResult {
  const { batch: B, headsQ: H, seqQ: S, headDimV: Dv, layout } = plan;
  const result: AttentionResult = { out: { data: new Float32Array(B * H * S * Dv), shape: shapeOf(layout, B, H, S, Dv) } };
  if (plan.returnLse) result.lse = { data: new Float32Array(B * H * S).fill(Number.NEGATIVE_INFINITY), shape: [B, H, S] };
  return result;
}

/** Writes a piece's result into the call's result (made by emptyResult). */
export function scatterPiece(into: AttentionResult, part: AttentionResult, parent: AttentionPlan, piece: Piece): void {
  const p = parent;
  const sel = rows(p, piece.select, 'q');
  walk(p.layout, p.headsQ, p.seqQ, p.headDimV, sel, (full, fullStep, at, pieceStep, count, len) =>
    copyRuns(part.out.data, at, pieceStep, into.out.data, full, fullStep, count, len),
  );
  // lse is [B, Hq, S] whatever the layout: the bhsd walk with D = 1.
  if (into.lse && part.lse)
    walk('bhsd', p.headsQ, p.seqQ, 1, sel, (full, fullStep, at, pieceStep, count, len) =>
      copyRuns(part.lse!.data, at, pieceStep, into.lse!.data, full, fullStep, count, len),
    );
}
