// The register-blocked inner kernels over one group of four query rows:
//   packQ      — the group's rows interleaved, Qp[d][4], so one pointer with immediate offsets feeds the kernel;
//   scoreGroup — St[c][4] = scale · Σ_d q_r[d] · k_c[d] for one key block (key-major: one vector = 4 rows);
//   pvGroup    — ACC[r][:Dv] = ACC[r][:Dv] · corr[r] + Σ_c P[c][r] · V[c][:Dv];
//   pvTiles    — the same over V stored as tiles (a KV cache: see C_V_TILED).
//
// Every score is summed in the same order whatever the blocking (lane adds q[d] · k[d] for d = 0, 1, …, D-1, one
// multiply-add each: see madd.ts), so the top-k pass and the fused kernel compute bit-identical scores.

import { madd } from './madd';

/**
 * Qp[g][d][4] for the groups of four rows of q (row stride qs bytes) times qscale (a power of two, so exact), zero
 * past `rows`.
 */
export function packQ(q: usize, qs: usize, rows: i32, D: i32, qscale: f32, Qp: usize): void {
  const groups = (rows + 3) >> 2;
  const gBytes = (<usize>D) << 4;
  for (let r = 0; r < groups << 2; r++) {
    const dst = Qp + <usize>(r >> 2) * gBytes + ((<usize>(r & 3)) << 2);
    if (r >= rows) {
      for (let d = 0; d < D; d++) store<f32>(dst + ((<usize>d) << 4), 0);
      continue;
    }
    const src = q + <usize>r * qs;
    for (let d = 0; d < D; d++) store<f32>(dst + ((<usize>d) << 4), load<f32>(src + ((<usize>d) << 2)) * qscale);
  }
}

/**
 * One group of four query rows (Qp: [D][4]) against one key block of Kt ([bk/8][D][8]): St[c] = the scores of the
 * four rows for key c, times scale, with ±Infinity turned into NaN (so that -Infinity only ever means masked).
 * Four rows × eight keys per step: eight accumulators, two key vectors and one broadcast query value in
 * registers; a 4 × 4 transpose turns rows × keys into keys × rows.
 */
export function scoreGroup(qp: usize, kt: usize, bk: i32, D: i32, scale: f32, St: usize): void {
  const sc = f32x4.splat(scale);
  const chunkBytes = (<usize>D) << 5;
  let kc = kt;
  let out = St;
  for (let c = 0; c < bk; c += 8) {
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let a2 = f32x4.splat(0);
    let a3 = f32x4.splat(0);
    let a4 = f32x4.splat(0);
    let a5 = f32x4.splat(0);
    let a6 = f32x4.splat(0);
    let a7 = f32x4.splat(0);
    let kp = kc;
    let qq = qp;
    const kEnd = kc + chunkBytes;
    while (kp < kEnd) {
      const k0 = v128.load(kp);
      const k1 = v128.load(kp, 16);
      let x = v128.load32_splat(qq);
      a0 = madd(x, k0, a0);
      a1 = madd(x, k1, a1);
      x = v128.load32_splat(qq, 4);
      a2 = madd(x, k0, a2);
      a3 = madd(x, k1, a3);
      x = v128.load32_splat(qq, 8);
      a4 = madd(x, k0, a4);
      a5 = madd(x, k1, a5);
      x = v128.load32_splat(qq, 12);
      a6 = madd(x, k0, a6);
      a7 = madd(x, k1, a7);
      kp += 32;
      qq += 16;
    }
    // Rows × keys to keys × rows: one vector per key, its four rows.
    storeTransposed(out, 16, scaled(a0, sc), scaled(a2, sc), scaled(a4, sc), scaled(a6, sc));
    storeTransposed(out + 64, 16, scaled(a1, sc), scaled(a3, sc), scaled(a5, sc), scaled(a7, sc));
    kc += chunkBytes;
    out += 128;
  }
}

/** a · sc, with ±Infinity and NaN as NaN: x + x · 0 is x when x is finite (even -0), else NaN. */
function scaled(a: v128, sc: v128): v128 {
  const x = f32x4.mul(a, sc);
  return f32x4.add(x, f32x4.mul(x, f32x4.splat(0)));
}

/**
 * A 4 × 4 transpose: vectors a, b, c, d (four values each) stored as their lanes 0, 1, 2, 3 across the four, at out,
 * out + step, out + 2 · step, out + 3 · step. Small and loop-free: the optimiser inlines it, folding a constant step.
 */
export function storeTransposed(out: usize, step: usize, a: v128, b: v128, c: v128, d: v128): void {
  const t0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(c, d, 0, 4, 1, 5);
  const t3 = v128.shuffle<f32>(c, d, 2, 6, 3, 7);
  v128.store(out, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  v128.store(out + step, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
  v128.store(out + 2 * step, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
  v128.store(out + 3 * step, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
}

/**
 * ACC rows (four, lda bytes apart) = ACC · corr + Σ_{c < width} P[c][r] · V[c] for the group; P is key-major
 * ([c][4]), V rows are vs bytes apart (the request layout). Four rows × eight values of Dv per step (eight
 * accumulators stay in registers over the whole key block), then four, then a scalar tail for Dv mod 4.
 */
export function pvGroup(P: usize, width: i32, v: usize, vs: usize, acc: usize, lda: usize, Dv: i32, corr: usize): void {
  const o0 = acc;
  const o1 = o0 + lda;
  const o2 = o1 + lda;
  const o3 = o2 + lda;
  const f0 = v128.load32_splat(corr);
  const f1 = v128.load32_splat(corr, 4);
  const f2 = v128.load32_splat(corr, 8);
  const f3 = v128.load32_splat(corr, 12);
  const pEnd = P + ((<usize>width) << 4);
  let e = 0;
  for (; e + 8 <= Dv; e += 8) {
    const eo = (<usize>e) << 2;
    let a0 = f32x4.mul(v128.load(o0 + eo), f0);
    let a1 = f32x4.mul(v128.load(o0 + eo, 16), f0);
    let a2 = f32x4.mul(v128.load(o1 + eo), f1);
    let a3 = f32x4.mul(v128.load(o1 + eo, 16), f1);
    let a4 = f32x4.mul(v128.load(o2 + eo), f2);
    let a5 = f32x4.mul(v128.load(o2 + eo, 16), f2);
    let a6 = f32x4.mul(v128.load(o3 + eo), f3);
    let a7 = f32x4.mul(v128.load(o3 + eo, 16), f3);
    let vp = v + eo;
    let pp = P;
    while (pp < pEnd) {
      const v0 = v128.load(vp);
      const v1 = v128.load(vp, 16);
      let x = v128.load32_splat(pp);
      a0 = madd(x, v0, a0);
      a1 = madd(x, v1, a1);
      x = v128.load32_splat(pp, 4);
      a2 = madd(x, v0, a2);
      a3 = madd(x, v1, a3);
      x = v128.load32_splat(pp, 8);
      a4 = madd(x, v0, a4);
      a5 = madd(x, v1, a5);
      x = v128.load32_splat(pp, 12);
      a6 = madd(x, v0, a6);
      a7 = madd(x, v1, a7);
      vp += vs;
      pp += 16;
    }
    v128.store(o0 + eo, a0);
    v128.store(o0 + eo, a1, 16);
    v128.store(o1 + eo, a2);
    v128.store(o1 + eo, a3, 16);
    v128.store(o2 + eo, a4);
    v128.store(o2 + eo, a5, 16);
    v128.store(o3 + eo, a6);
    v128.store(o3 + eo, a7, 16);
  }
  for (; e + 4 <= Dv; e += 4) {
    const eo = (<usize>e) << 2;
    let a0 = f32x4.mul(v128.load(o0 + eo), f0);
    let a1 = f32x4.mul(v128.load(o1 + eo), f1);
    let a2 = f32x4.mul(v128.load(o2 + eo), f2);
    let a3 = f32x4.mul(v128.load(o3 + eo), f3);
    let vp = v + eo;
    let pp = P;
    while (pp < pEnd) {
      const v0 = v128.load(vp);
      a0 = madd(v128.load32_splat(pp), v0, a0);
      a1 = madd(v128.load32_splat(pp, 4), v0, a1);
      a2 = madd(v128.load32_splat(pp, 8), v0, a2);
      a3 = madd(v128.load32_splat(pp, 12), v0, a3);
      vp += vs;
      pp += 16;
    }
    v128.store(o0 + eo, a0);
    v128.store(o1 + eo, a1);
    v128.store(o2 + eo, a2);
    v128.store(o3 + eo, a3);
  }
  // Scalar tail: the last Dv mod 4 values of each row.
  for (; e < Dv; e++) {
    const eo = (<usize>e) << 2;
    for (let r = 0; r < 4; r++) {
      const o = acc + <usize>r * lda + eo;
      let a = load<f32>(o) * load<f32>(corr + ((<usize>r) << 2));
      let vp = v + eo;
      for (let pp = P + ((<usize>r) << 2); pp < pEnd; pp += 16) {
        a += load<f32>(pp) * load<f32>(vp);
        vp += vs;
      }
      store<f32>(o, a);
    }
  }
}

/**
 * pvGroup over V stored as tiles (C_V_TILED): `width` keys of consecutive tiles of tileBytes from vt, starting at key
 * `first` of the first tile, each tile [Dv8 / 8][bk][8], so the keys of one 8-wide slice of a tile are read as one
 * contiguous stream. Dv8 (Dv rounded up
 * to 8) values per row: the padding of the tiles is zero, and ACC rows (lda bytes apart) hold at least Dv8 values.
 */
export function pvTiles(P: usize, width: i32, vt: usize, first: i32, bk: i32, tileBytes: usize, acc: usize, lda: usize, Dv8: i32, corr: usize): void {
  const o0 = acc;
  const o1 = o0 + lda;
  const o2 = o1 + lda;
  const o3 = o2 + lda;
  const f0 = v128.load32_splat(corr);
  const f1 = v128.load32_splat(corr, 4);
  const f2 = v128.load32_splat(corr, 8);
  const f3 = v128.load32_splat(corr, 12);
  const sliceBytes = (<usize>bk) << 5;
  for (let e = 0; e < Dv8; e += 8) {
    const eo = (<usize>e) << 2;
    let a0 = f32x4.mul(v128.load(o0 + eo), f0);
    let a1 = f32x4.mul(v128.load(o0 + eo, 16), f0);
    let a2 = f32x4.mul(v128.load(o1 + eo), f1);
    let a3 = f32x4.mul(v128.load(o1 + eo, 16), f1);
    let a4 = f32x4.mul(v128.load(o2 + eo), f2);
    let a5 = f32x4.mul(v128.load(o2 + eo, 16), f2);
    let a6 = f32x4.mul(v128.load(o3 + eo), f3);
    let a7 = f32x4.mul(v128.load(o3 + eo, 16), f3);
    let pp = P;
    let tile = vt + <usize>(e >> 3) * sliceBytes;
    let skip = first;
    for (let left = width; left > 0; ) {
      const n = min(bk - skip, left);
      let vp = tile + ((<usize>skip) << 5);
      const pEnd = pp + ((<usize>n) << 4);
      while (pp < pEnd) {
        const v0 = v128.load(vp);
        const v1 = v128.load(vp, 16);
        let x = v128.load32_splat(pp);
        a0 = madd(x, v0, a0);
        a1 = madd(x, v1, a1);
        x = v128.load32_splat(pp, 4);
        a2 = madd(x, v0, a2);
        a3 = madd(x, v1, a3);
        x = v128.load32_splat(pp, 8);
        a4 = madd(x, v0, a4);
        a5 = madd(x, v1, a5);
        x = v128.load32_splat(pp, 12);
        a6 = madd(x, v0, a6);
        a7 = madd(x, v1, a7);
        vp += 32;
        pp += 16;
      }
      left -= n;
      skip = 0;
      tile += tileBytes;
    }
    v128.store(o0 + eo, a0);
    v128.store(o0 + eo, a1, 16);
    v128.store(o1 + eo, a2);
    v128.store(o1 + eo, a3, 16);
    v128.store(o2 + eo, a4);
    v128.store(o2 + eo, a5, 16);
    v128.store(o3 + eo, a6);
    v128.store(o3 + eo, a7, 16);
  }
}
