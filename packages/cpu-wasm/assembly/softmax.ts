// Masking of a key-major score tile St[c][4] (one vector = four query rows of one key) and the online softmax,
// all vectorised across the four rows of a group.
//
// Non-finite values: scores arrive finite or NaN (scoreGroup turns ±Infinity into NaN), masked keys are set to
// -Infinity by selection, never by a multiply. A NaN score left after masking is a key the row attends, so the
// softmax lets it through: its weight is NaN, which makes the row's l and accumulator NaN. Masked keys weigh
// exactly 0, and their v rows are finite (the prep phase zeroes non-finite v rows and flags their keys).
import { madd } from './madd';

const NEG_INF: f32 = -Infinity;
export const LOG2E: f32 = <f32>Math.LOG2E;

const EXP2_LO: f32 = -126.0;
/** 1.5 · 2^23: adding it rounds a float below 2^22 in magnitude to an integer, held in the low mantissa bits. */
const ROUND_MAGIC: f32 = 12582912.0;
/** Bits of ROUND_MAGIC, less the exponent bias: (bits(x + magic) + this) << 23 is 2^round(x). */
const EXP_BITS_OFFSET: i32 = 127 - 0x4b400000;

/**
 * 2^x on four lanes for x <= 0 (the softmax only ever needs that): n = round(x) by the magic-number addition,
 * r = x - n in [-1/2, 1/2] (exact), 2^r by its degree-6 Taylor polynomial (relative error about 1e-7), times 2^n
 * built in the exponent bits. x < -126 and -Infinity give exactly 0, so masked scores contribute nothing; NaN
 * gives NaN; x = 0 gives exactly 1.
 */
export function exp2v(x: v128): v128 {
  const lo = f32x4.splat(EXP2_LO);
  // pmax(x, lo) keeps a NaN x (pmax(a, b) is a < b ? b : a).
  const xc = f32x4.pmax(x, lo);
  const magic = f32x4.splat(ROUND_MAGIC);
  const kf = f32x4.add(xc, magic);
  const r = f32x4.sub(xc, f32x4.sub(kf, magic));
  let p = f32x4.splat(0.00015403530393381606);
  p = madd(p, r, f32x4.splat(0.0013333558146428441));
  p = madd(p, r, f32x4.splat(0.009618129107628477));
  p = madd(p, r, f32x4.splat(0.055504108664821576));
  p = madd(p, r, f32x4.splat(0.2402265069591007));
  p = madd(p, r, f32x4.splat(<f32>Math.LN2));
  p = madd(p, r, f32x4.splat(1.0));
  const e = i32x4.shl(i32x4.add(kf, i32x4.splat(EXP_BITS_OFFSET)), 23);
  return v128.andnot(f32x4.mul(p, e), f32x4.lt(x, lo));
}

/**
 * Partial block: keep St[c][r] where bit c of row r of the block's bit tile is set, else -Infinity. `bits` points
 * at the group's first row; the four rows are rowBytes apart (wpr words, or 0 when the four lanes are heads packed
 * over one query row: see C_HEAD_PACK).
 */
export function applyBits(St: usize, bk: i32, bits: usize, wpr: i32, rowBytes: usize): void {
  const ninf = f32x4.splat(NEG_INF);
  const one = i32x4.splat(1);
  const zero = i32x4.splat(0);
  for (let w = 0; w < wpr; w++) {
    const at = bits + ((<usize>w) << 2);
    const w0 = load<u32>(at);
    const w1 = load<u32>(at + rowBytes);
    const w2 = load<u32>(at + 2 * rowBytes);
    const w3 = load<u32>(at + 3 * rowBytes);
    const c0 = w << 5;
    const c1 = min(bk, c0 + 32);
    if ((w0 & w1 & w2 & w3) === 0xffffffff) continue;
    let s = St + ((<usize>c0) << 4);
    const end = St + ((<usize>c1) << 4);
    if ((w0 | w1 | w2 | w3) === 0) {
      for (; s < end; s += 16) v128.store(s, ninf);
      continue;
    }
    let W = i32x4(w0, w1, w2, w3);
    for (; s < end; s += 16) {
      v128.store(s, v128.bitselect(v128.load(s), ninf, i32x4.ne(v128.and(W, one), zero)));
      W = i32x4.shr_u(W, 1);
    }
  }
}

/** Ragged last key block: keys width ≤ c < bk get -Infinity. */
export function maskTail(St: usize, width: i32, bk: i32): void {
  const ninf = f32x4.splat(NEG_INF);
  for (let c = width; c < bk; c++) v128.store(St + ((<usize>c) << 4), ninf);
}

/**
 * Top-k filter: keep s > t, or s = t and j <= tieCut (t, tieCut per row: four lanes at thr, tie), j = j0 + c. A row
 * whose candidates include a NaN score has t = NaN (topk pass): every lane of it becomes NaN (all bits set).
 */
export function applyTopk(St: usize, bk: i32, j0: i32, thr: usize, tie: usize): void {
  const ninf = f32x4.splat(NEG_INF);
  const t = v128.load(thr);
  const cut = v128.load(tie);
  const poisoned = f32x4.ne(t, t);
  for (let c = 0; c < bk; c++) {
    const s = St + ((<usize>c) << 4);
    const x = v128.load(s);
    const keep = v128.or(f32x4.gt(x, t), v128.and(f32x4.eq(x, t), i32x4.ge_s(cut, i32x4.splat(j0 + c))));
    v128.store(s, v128.or(v128.bitselect(x, ninf, keep), poisoned));
  }
}

/**
 * Keys whose v row is not finite (flags: i32 -1 per such key, from key j0 on): the lanes of rows that attend them
 * (not -Infinity after masking) become NaN, so those rows come out NaN.
 */
export function applyBadV(St: usize, keys: i32, flags: usize): void {
  const ninf = f32x4.splat(NEG_INF);
  const nan = f32x4.splat(NaN);
  for (let c = 0; c < keys; c++) {
    const s = St + ((<usize>c) << 4);
    const x = v128.load(s);
    const hit = v128.and(v128.load32_splat(flags + ((<usize>c) << 2)), f32x4.ne(x, ninf));
    v128.store(s, v128.bitselect(nan, x, hit));
  }
}

/** Cluster filter: keep key c where labelK[c] equals the row's query label (four lanes at labelQ). */
export function applyCluster(St: usize, bk: i32, labelQ: usize, labelK: usize): void {
  const ninf = f32x4.splat(NEG_INF);
  const lq = v128.load(labelQ);
  for (let c = 0; c < bk; c++) {
    const s = St + ((<usize>c) << 4);
    v128.store(s, v128.bitselect(v128.load(s), ninf, i32x4.eq(v128.load32_splat(labelK + ((<usize>c) << 2)), lq)));
  }
}

/**
 * Online softmax over one key block for the group: m' = max(m, max_c St[c]) (NaN scores never win), corr =
 * e^(m - m') (exactly 1 where the max did not move), P = e^(St - m') written over St, l = l · corr + Σ_c P, with
 * e^x computed as 2^(x · log2 e). A row with no allowed key so far keeps m = -Infinity, l = 0 and gets P = 0; a NaN
 * score gives P = NaN and so l = NaN. M, L and corr hold the group's four rows.
 */
export function softmaxGroup(St: usize, bk: i32, M: usize, L: usize, corr: usize): void {
  const ninf = f32x4.splat(NEG_INF);
  const end = St + ((<usize>bk) << 4);
  let mx0 = ninf;
  let mx1 = ninf;
  for (let s = St; s < end; s += 32) {
    mx0 = f32x4.pmax(mx0, v128.load(s));
    mx1 = f32x4.pmax(mx1, v128.load(s, 16));
  }
  const mOld = v128.load(M);
  const mNew = f32x4.pmax(mOld, f32x4.pmax(mx0, mx1));
  const mUse = v128.andnot(mNew, f32x4.eq(mNew, ninf));
  const log2e = f32x4.splat(LOG2E);
  const f = exp2v(f32x4.mul(f32x4.sub(mOld, mUse), log2e));
  let sum0 = f32x4.splat(0);
  let sum1 = f32x4.splat(0);
  for (let s = St; s < end; s += 32) {
    const p0 = exp2v(f32x4.mul(f32x4.sub(v128.load(s), mUse), log2e));
    const p1 = exp2v(f32x4.mul(f32x4.sub(v128.load(s, 16), mUse), log2e));
    v128.store(s, p0);
    v128.store(s, p1, 16);
    sum0 = f32x4.add(sum0, p0);
    sum1 = f32x4.add(sum1, p1);
  }
  v128.store(M, mNew);
  v128.store(L, f32x4.add(f32x4.mul(v128.load(L), f), f32x4.add(sum0, sum1)));
  v128.store(corr, f);
}
