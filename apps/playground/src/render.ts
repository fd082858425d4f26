import { type Compiled, rowCount, tileCount } from './mask.js';
import type { Viewport } from './viewport.js';

export type Rgb = [number, number, number];
export interface Palette {
  outside: Rgb;
  empty: Rgb;
  allowed: Rgb;
}

/** First n in [lo, hi) with colIdx[n] >= kb. */
function lowerBound(col: Int32Array, lo: number, hi: number, kb: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (col[mid]! < kb) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Integer range [lo, hi) of tokens whose pixel (floor((t − origin)·scale)) is p, clipped to [0, n). */
function pixelRanges(count: number, origin: number, scale: number, n: number): { lo: Int32Array; hi: Int32Array } {
  const lo = new Int32Array(count);
  const hi = new Int32Array(count);
  for (let p = 0; p < count; p++) {
    lo[p] = Math.min(n, Math.max(0, Math.ceil(origin + p / scale)));
    hi[p] = Math.min(n, Math.max(0, Math.ceil(origin + (p + 1) / scale)));
  }
  return { lo, hi };
}

/**
 * Rasterises the mask into `img`. Zoomed out (a pixel holds several tokens) every pixel gets the fraction of its
 * pairs that are allowed, summed from full blocks (their area), partial blocks (popcounts of their bit rows) and
 * blocks smaller than a pixel (their cached tile count). Zoomed in (a token spans pixels) each visible cell is read
 * from its block: unlisted, full, or a bit of a partial tile. Work follows the visible listed blocks, never Sq · Sk.
 */
export function render(c: Compiled, vp: Viewport, pal: Palette, img: ImageData): void {
  const { W, H } = vp;
  const px = img.data;
  const cov = vp.scale < 1 ? coverage(c, vp) : cells(c, vp);
  const inQ = new Uint8Array(H);
  const inK = new Uint8Array(W);
  for (let y = 0; y < H; y++) {
    const i = vp.y0 + (y + 0.5) / vp.scale;
    inQ[y] = i >= 0 && i < vp.sq ? 1 : 0;
  }
  for (let x = 0; x < W; x++) {
    const j = vp.x0 + (x + 0.5) / vp.scale;
    inK[x] = j >= 0 && j < vp.sk ? 1 : 0;
  }
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = (y * W + x) * 4;
      const v = cov[y * W + x]!;
      let rgb: Rgb;
      if (!(inQ[y] && inK[x])) rgb = pal.outside;
      else if (v <= 0) rgb = pal.empty;
      else if (v >= 1) rgb = pal.allowed;
      else {
        // Sparse pixels stay visible: a pixel with any allowed pair is at least 35 % of the way to "allowed".
        const a = 0.35 + 0.65 * v;
        px[o] = pal.empty[0] + (pal.allowed[0] - pal.empty[0]) * a;
        px[o + 1] = pal.empty[1] + (pal.allowed[1] - pal.empty[1]) * a;
        px[o + 2] = pal.empty[2] + (pal.allowed[2] - pal.empty[2]) * a;
        px[o + 3] = 255;
        continue;
      }
      px[o] = rgb[0];
      px[o + 1] = rgb[1];
      px[o + 2] = rgb[2];
      px[o + 3] = 255;
    }
  }
}

/** Zoomed out: allowed fraction per pixel. */
function coverage(c: Compiled, vp: Viewport): Float32Array {
  const { mask } = c;
  const { W, H, scale } = vp;
  const acc = new Float32Array(W * H);
  const rows = pixelRanges(H, vp.y0, scale, mask.seqQ);
  const cols = pixelRanges(W, vp.x0, scale, mask.seqK);
  const iA = rows.lo[0]!;
  const iB = rows.hi[H - 1]!;
  const jA = cols.lo[0]!;
  const jB = cols.hi[W - 1]!;
  if (iA >= iB || jA >= jB) return acc;
  const pyOf = (i: number) => Math.floor((i - vp.y0) * scale);
  const pxOf = (j: number) => Math.floor((j - vp.x0) * scale);
  const { blockQ: bQ, blockK: bK } = mask;
  const tiny = bQ * scale <= 1 && bK * scale <= 1;
  for (let qb = Math.floor(iA / bQ); qb <= Math.floor((iB - 1) / bQ); qb++) {
    const i0 = qb * bQ;
    const ra = Math.max(i0, iA);
    const rb = Math.min(i0 + bQ, mask.seqQ, iB);
    const end = mask.rowPtr[qb + 1]!;
    for (let n = lowerBound(mask.colIdx, mask.rowPtr[qb]!, end, Math.floor(jA / bK)); n < end; n++) {
      const kb = mask.colIdx[n]!;
      const j0 = kb * bK;
      if (j0 >= jB) break;
      const ca = Math.max(j0, jA);
      const cb = Math.min(j0 + bK, mask.seqK, jB);
      const P = mask.partialIdx[n]!;
      if (P >= 0 && tiny) {
        const y = Math.min(H - 1, Math.max(0, pyOf((ra + rb - 1) / 2)));
        const x = Math.min(W - 1, Math.max(0, pxOf((ca + cb - 1) / 2)));
        // The whole tile's count, scaled to the part of it in view.
        const rowsAll = Math.min(bQ, mask.seqQ - i0);
        const colsAll = Math.min(bK, mask.seqK - j0);
        acc[y * W + x]! += (tileCount(c, P) * ((rb - ra) * (cb - ca))) / (rowsAll * colsAll);
        continue;
      }
      for (let y = pyOf(ra); y <= pyOf(rb - 1); y++) {
        const ylo = Math.max(ra, rows.lo[y]!);
        const yhi = Math.min(rb, rows.hi[y]!);
        if (yhi <= ylo) continue;
        for (let x = pxOf(ca); x <= pxOf(cb - 1); x++) {
          const xlo = Math.max(ca, cols.lo[x]!);
          const xhi = Math.min(cb, cols.hi[x]!);
          if (xhi <= xlo) continue;
          if (P < 0) acc[y * W + x]! += (yhi - ylo) * (xhi - xlo);
          else {
            let s = 0;
            for (let i = ylo; i < yhi; i++) s += rowCount(mask, P, i - i0, xlo - j0, xhi - j0);
            acc[y * W + x]! += s;
          }
        }
      }
    }
  }
  for (let y = 0; y < H; y++) {
    const nr = rows.hi[y]! - rows.lo[y]!;
    for (let x = 0; x < W; x++) {
      const area = nr * (cols.hi[x]! - cols.lo[x]!);
      acc[y * W + x] = area > 0 ? acc[y * W + x]! / area : 0;
    }
  }
  return acc;
}

/** Zoomed in: 1 or 0 per pixel, from the cell under its centre. */
function cells(c: Compiled, vp: Viewport): Float32Array {
  const { mask } = c;
  const { W, H, scale } = vp;
  const out = new Float32Array(W * H);
  const jOf = new Int32Array(W);
  for (let x = 0; x < W; x++) jOf[x] = Math.floor(vp.x0 + (x + 0.5) / scale);
  const jA = Math.max(0, jOf[0]!);
  const jB = Math.min(mask.seqK, jOf[W - 1]! + 1);
  const flags = new Uint8Array(Math.max(0, jB - jA));
  let lastI = Number.NaN;
  for (let y = 0; y < H; y++) {
    const i = Math.floor(vp.y0 + (y + 0.5) / scale);
    if (i < 0 || i >= mask.seqQ || jA >= jB) continue;
    if (i !== lastI) {
      lastI = i;
      flags.fill(0);
      const qb = Math.floor(i / mask.blockQ);
      const r = i - qb * mask.blockQ;
      const end = mask.rowPtr[qb + 1]!;
      for (let n = lowerBound(mask.colIdx, mask.rowPtr[qb]!, end, Math.floor(jA / mask.blockK)); n < end; n++) {
        const j0 = mask.colIdx[n]! * mask.blockK;
        if (j0 >= jB) break;
        const P = mask.partialIdx[n]!;
        const hi = Math.min(j0 + mask.blockK, mask.seqK, jB);
        for (let j = Math.max(j0, jA); j < hi; j++) {
          if (P < 0) flags[j - jA] = 1;
          else {
            const col = j - j0;
            const w = mask.bits[(P * mask.blockQ + r) * mask.wordsPerRow + (col >>> 5)]!;
            flags[j - jA] = (w >>> (col & 31)) & 1;
          }
        }
      }
    }
    for (let x = 0; x < W; x++) {
      const j = jOf[x]!;
      if (j >= jA && j < jB) out[y * W + x] = flags[j - jA]!;
    }
  }
  return out;
}
