// A JavaScript model of the CUDA kernels that reads the packed NativeArgs exactly as they do (core's head table,
// through the same constants the kernels get from the generated native/head_table.h; concatenated masks, strides,
// content modes), including the radix select of the top-k pass. Host-side tests run it against core's reference:
// it pins the packing ABI and the selection algorithm without a GPU.
import { HEAD_FIELD, HEAD_MODE, HEAD_WORDS, rowOffset } from '@sparse/core/backend';
import type { HostNativeArgs } from '../src/binding.js';
import { roundBf16, roundF16 } from './rounding.js';

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
const MASK64 = (1n << 64n) - 1n;
const SIGN = 1n << 63n;
/** The largest float32: scores beyond it overflow a float32 kernel. */
const FLT_MAX = 3.4028234663852886e38;
const LOG2E_F32 = Math.fround(Math.LOG2E);

/**
 * expFrom() of common.cuh: the weight of score s under the running max m, both in natural units, with the
 * exponent argument in float32 as the kernels form it. (s − m) ≤ 0 cannot overflow; s·log2e would from ~2.36e38.
 */
export const expFrom = (s: number, m: number): number => 2 ** Math.fround(Math.fround(s - m) * LOG2E_F32);

/** orderedBits() of content.cu: larger double, larger unsigned key. */
export function orderedBits(s: number): bigint {
  f64[0] = s;
  const b = u64[0]!;
  return b & SIGN ? ~b & MASK64 : b ^ SIGN;
}
export function fromOrdered(u: bigint): number {
  u64[0] = u & SIGN ? u ^ SIGN : ~u & MASK64;
  return f64[0]!;
}

/** score64() of common.cuh: float64 products of float32 values, summed in index order, times scale. */
function score64(q: Float32Array, qa: number, k: Float32Array, ka: number, D: number, scale: number): number {
  let s = 0;
  for (let d = 0; d < D; d++) s += q[qa + d]! * k[ka + d]!;
  return s * scale + 0;
}

/** topkSelect of content.cu: 8 digits of the ordered score, then 4 digits of ~j, most significant first. */
export function radixSelect(cands: { s: number; j: number }[], k: number): { threshold: number; tieCut: number } {
  if (cands.length <= k) return { threshold: -Infinity, tieCut: 2147483647 };
  let hi = 0n;
  let lo = 0;
  let remaining = k;
  for (let pass = 0; pass < 12; pass++) {
    const hist = new Array<number>(256).fill(0);
    for (const c of cands) {
      const u = orderedBits(c.s);
      const l = ~c.j >>> 0;
      let digit: number;
      if (pass < 8) {
        const shift = BigInt(56 - 8 * pass);
        if (pass > 0 && u >> (shift + 8n) !== hi >> (shift + 8n)) continue;
        digit = Number((u >> shift) & 255n);
      } else {
        if (u !== hi) continue;
        const shift = 24 - 8 * (pass - 8);
        if (pass > 8 && l >>> (shift + 8) !== lo >>> (shift + 8)) continue;
        digit = (l >>> shift) & 255;
      }
      hist[digit]!++;
    }
    let cum = 0;
    let chosen = 0;
    for (let d = 255; d >= 0; d--) {
      if (cum + hist[d]! >= remaining) {
        chosen = d;
        remaining -= cum;
        break;
      }
      cum += hist[d]!;
    }
    if (pass < 8) hi |= BigInt(chosen) << BigInt(56 - 8 * pass);
    else lo = (lo | (chosen << (24 - 8 * (pass - 8)))) >>> 0;
  }
  return { threshold: fromOrdered(hi), tieCut: ~lo | 0 };
}

function label(x: Float32Array, at: number, unit: Float64Array, off: number, C: number, D: number): number {
  let best = 0;
  let bestScore = -Infinity;
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let d = 0; d < D; d++) s += x[at + d]! * unit[off + c * D + d]!;
    if (s > bestScore) {
      bestScore = s;
      best = c;
    }
  }
  return best;
}

interface Candidate {
  s: number;
  j: number;
  /** The listed key block it came from (the kernels' online softmax goes block by block). */
  n: number;
}

/**
 * One row's online softmax over its kept keys, key block by key block as the kernels run it: the running max
 * is updated per block, and with roundP each weight exp(s − max) is rounded before it multiplies v (the
 * denominator sums the unrounded weights, as the tensor-core kernel does). float64 arithmetic.
 */
function softmaxRow(keep: Candidate[], vRow: (j: number) => number, v: Float32Array, Dv: number, roundP: ((x: number) => number) | null) {
  const acc = new Float64Array(Dv);
  let m = -Infinity;
  let l = 0;
  for (let at = 0; at < keep.length; ) {
    let end = at;
    let bm = -Infinity;
    while (end < keep.length && keep[end]!.n === keep[at]!.n) bm = Math.max(bm, keep[end++]!.s);
    const mNew = Math.max(m, bm);
    const corr = m === -Infinity ? 0 : expFrom(m, mNew);
    l *= corr;
    for (let d = 0; d < Dv; d++) acc[d]! *= corr;
    for (; at < end; at++) {
      const c = keep[at]!;
      const w = expFrom(c.s, mNew);
      l += w;
      const p = roundP ? roundP(w) : w;
      const va = vRow(c.j);
      for (let d = 0; d < Dv; d++) acc[d]! += p * v[va + d]!;
    }
    m = mNew;
  }
  for (let d = 0; d < Dv; d++) acc[d] = l > 0 ? acc[d]! / l : 0;
  return { out: acc, lse: l > 0 ? m + Math.log(l) : -Infinity };
}

/** Runs the packed request the way the kernels do; float64 softmax but for the exponent argument (the kernels use float32). */
export function emulate(args: HostNativeArgs): { out: Float64Array; lse: Float64Array } {
  const [B, Hq, Hkv, Sq, Sk, D, Dv] = Array.from(args.dims) as [number, number, number, number, number, number, number];
  const group = Hq / Hkv;
  const { blockQ, blockK, layout, scale } = args;
  const wpr = (blockK + 31) >>> 5;
  // The tensor-core kernels round each softmax weight to the storage type before the P·V product.
  const roundP = args.kernel !== 0 && args.precision !== 0 ? (args.precision === 1 ? roundBf16 : roundF16) : null;
  const out = new Float64Array(B * Hq * Sq * Dv);
  const lse = new Float64Array(B * Hq * Sq);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++) {
      const hd = args.heads.subarray(h * HEAD_WORDS, (h + 1) * HEAD_WORDS);
      const rowPtr = args.rowPtr.subarray(hd[HEAD_FIELD.rowPtr]!);
      const colBase = hd[HEAD_FIELD.colIdx]!;
      const bitsBase = hd[HEAD_FIELD.bits]!;
      const mode = hd[HEAD_FIELD.mode]!;
      const hk = Math.floor(h / group);
      const C = hd[HEAD_FIELD.param]!;
      const kRow = (j: number) => rowOffset(layout, Hkv, Sk, D, b, hk, j);
      const labelsK =
        mode === HEAD_MODE.cluster ? Array.from({ length: Sk }, (_, j) => label(args.k, kRow(j), args.centroids!, hd[HEAD_FIELD.centroids]!, C, D)) : null;
      for (let i = 0; i < Sq; i++) {
        const qb = Math.floor(i / blockQ);
        const r = i - qb * blockQ;
        const qa = rowOffset(layout, Hq, Sq, D, b, h, i);
        // The row's candidates: listed blocks, in-range keys, bit set (what both kernels and topkSelect enumerate).
        const cands: Candidate[] = [];
        for (let n = rowPtr[qb]!; n < rowPtr[qb + 1]!; n++) {
          const j0 = args.colIdx[colBase + n]! * blockK;
          const P = args.partialIdx[colBase + n]!;
          for (let c = 0; c < blockK; c++) {
            const j = j0 + c;
            if (j >= Sk) continue;
            if (P >= 0 && ((args.bits[bitsBase + (P * blockQ + r) * wpr + (c >>> 5)]! >>> (c & 31)) & 1) === 0) continue;
            cands.push({ s: score64(args.q, qa, args.k, kRow(j), D, scale), j, n });
          }
        }
        let keep = cands;
        if (mode === HEAD_MODE.topk) {
          const { threshold, tieCut } = radixSelect(cands, hd[HEAD_FIELD.param]!);
          keep = cands.filter((c) => c.s > threshold || (c.s === threshold && c.j <= tieCut));
        } else if (labelsK) {
          const lq = label(args.q, qa, args.centroids!, hd[HEAD_FIELD.centroids]!, C, D);
          keep = cands.filter((c) => labelsK[c.j] === lq);
        }
        const oa = rowOffset(layout, Hq, Sq, Dv, b, h, i);
        // The non-finite rule: a score that is not finite (or beyond float32) among the keys the row attends — for
        // top-k every candidate of `within` — or a non-finite v of a kept key makes the whole row NaN. Masked keys are
        // never visited. (The tensor-core kernels get there by zeroing non-finite v in each V tile and flagging its
        // key, so the masked rows' zero weights meet zeros; the CUDA-core kernel tests each kept v.)
        const counted = mode === HEAD_MODE.topk ? cands : keep;
        const vRow = (j: number) => rowOffset(layout, Hkv, Sk, Dv, b, hk, j);
        const badV = (j: number) => args.v.subarray(vRow(j), vRow(j) + Dv).some((x) => !Number.isFinite(x));
        if (counted.some((c) => !(Math.abs(c.s) <= FLT_MAX)) || keep.some((c) => badV(c.j))) {
          out.fill(Number.NaN, oa, oa + Dv);
          lse[(b * Hq + h) * Sq + i] = Number.NaN;
          continue;
        }
        const r64 = softmaxRow(keep, vRow, args.v, Dv, roundP);
        out.set(r64.out, oa);
        lse[(b * Hq + h) * Sq + i] = r64.lse;
      }
    }
  return { out, lse };
}
