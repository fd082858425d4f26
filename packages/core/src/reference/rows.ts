import { makePredicate, type Predicate } from '../pattern/predicate.js';
import type { Pattern } from '../pattern/types.js';
import type { AttentionPlan, AttentionRequest } from '../request.js';
import { rowOffset } from '../tensor.js';
import { clusterLabel, isFiniteFloat32, normalisedCentroids, topkCut } from './content.js';

/**
 * The reference semantics, row by row, straight from the element predicate (docs/design.md): float64 accumulation
 * of float32 inputs, softmax over the allowed keys, out = 0 and lse = -Infinity for a row with no allowed key, NaN
 * for a row the non-finite rule names.
 * O(Sk · D) per row: meant for tests, fixture generation and spot checks of fast backends on sampled rows.
 */
export class ReferenceRows {
  private readonly predicates = new Map<Pattern, Predicate>();
  private readonly keyLabels = new Map<string, Int32Array>();
  private readonly units = new Map<Pattern, Float64Array>();

  constructor(
    private readonly plan: AttentionPlan,
    private readonly request: AttentionRequest,
  ) {}

  private predicate(p: Pattern): Predicate {
    let f = this.predicates.get(p);
    if (!f) {
      const base = p.kind === 'topk' || p.kind === 'cluster' ? (p.within ?? { kind: 'dense' }) : p;
      f = makePredicate(base, this.plan);
      this.predicates.set(p, f);
    }
    return f;
  }

  /** Computes row (b, h, i) into out[outAt … outAt + Dv); returns its lse. */
  row(b: number, h: number, i: number, out: Float64Array, outAt: number): number {
    const { layout, headsQ, headsKv, seqQ, seqK, headDim: D, headDimV: Dv, scale } = this.plan;
    const { q, k, v } = this.request;
    const hk = Math.floor(h / this.plan.group);
    const pattern = this.plan.patterns[h]!;
    const allowed = this.predicate(pattern);
    const qa = rowOffset(layout, headsQ, seqQ, D, b, h, i);
    const keys: number[] = [];
    const scores: number[] = [];
    for (let j = 0; j < seqK; j++) {
      if (!allowed(i, j)) continue;
      const ka = rowOffset(layout, headsKv, seqK, D, b, hk, j);
      let s = 0;
      for (let d = 0; d < D; d++) s += q.data[qa + d]! * k.data[ka + d]!;
      keys.push(j);
      scores.push(s * scale);
    }
    let keep = keys.map(() => true);
    if (pattern.kind === 'topk') {
      const cut = topkCut(scores, keys, keys.length, pattern.k);
      keep = keys.map((j, n) => scores[n]! > cut.threshold || (scores[n] === cut.threshold && j <= cut.tieCut));
    } else if (pattern.kind === 'cluster') {
      let unit = this.units.get(pattern);
      if (!unit) {
        unit = normalisedCentroids(pattern);
        this.units.set(pattern, unit);
      }
      const labelQ = clusterLabel(q.data, qa, unit, D);
      const labelsK = this.labelsOfKeys(pattern, unit, b, hk);
      keep = keys.map((j) => labelsK[j] === labelQ);
    }
    out.fill(0, outAt, outAt + Dv);
    // The non-finite rule (docs/design.md): any score the row depends on that is not a finite float32 (for top-k,
    // every candidate's, since the ranking reads them all), or a non-finite v of a kept key, makes the row NaN.
    const counts = (n: number) => pattern.kind === 'topk' || keep[n];
    let bad = scores.some((s, n) => counts(n) && !isFiniteFloat32(s));
    for (let n = 0; n < keys.length && !bad; n++) {
      if (!keep[n]) continue;
      const va = rowOffset(layout, headsKv, seqK, Dv, b, hk, keys[n]!);
      for (let d = 0; d < Dv; d++) if (!Number.isFinite(v.data[va + d]!)) bad = true;
    }
    if (bad) {
      out.fill(Number.NaN, outAt, outAt + Dv);
      return Number.NaN;
    }
    let m = -Infinity;
    for (let n = 0; n < keys.length; n++) if (keep[n] && scores[n]! > m) m = scores[n]!;
    if (m === -Infinity) return -Infinity;
    let l = 0;
    for (let n = 0; n < keys.length; n++) {
      if (!keep[n]) continue;
      const w = Math.exp(scores[n]! - m);
      l += w;
      const va = rowOffset(layout, headsKv, seqK, Dv, b, hk, keys[n]!);
      for (let d = 0; d < Dv; d++) out[outAt + d]! += w * v.data[va + d]!;
    }
    for (let d = 0; d < Dv; d++) out[outAt + d]! /= l;
    return m + Math.log(l);
  }

  private labelsOfKeys(p: Pattern, unit: Float64Array, b: number, hk: number): Int32Array {
    const { layout, headsKv, seqK, headDim: D } = this.plan;
    const key = `${this.plan.patterns.indexOf(p)}|${b}|${hk}`;
    let labels = this.keyLabels.get(key);
    if (!labels) {
      labels = new Int32Array(seqK);
      for (let j = 0; j < seqK; j++) labels[j] = clusterLabel(this.request.k.data, rowOffset(layout, headsKv, seqK, D, b, hk, j), unit, D);
      this.keyLabels.set(key, labels);
    }
    return labels;
  }
}
