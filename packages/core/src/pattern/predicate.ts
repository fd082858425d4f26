import { SparseAttentionError } from '../errors.js';
import { drawKeyBlocks } from './prng.js';
import { documentOf, groupSize, neighborhoodStart, sortedHas, sortedSet } from './semantics.js';
import type { Pattern, StaticPattern } from './types.js';

export interface PositionContext {
  seqQ: number;
  seqK: number;
  /** p = i + offset. */
  offset: number;
}

/** allowed(i, j) for query index i and key index j. */
export type Predicate = (i: number, j: number) => boolean;

/**
 * The element predicate of a static pattern (docs/design.md, Pattern semantics). It is the semantic definition
 * that the compiler is tested against; it is never used to build a dense matrix outside tests and the reference.
 */
export function makePredicate(pattern: Pattern, ctx: PositionContext): Predicate {
  const { offset } = ctx;
  const p = pattern as StaticPattern;
  switch (p.kind) {
    case 'dense':
      return () => true;
    case 'causal':
      return (i, j) => i + offset - j >= 0;
    case 'local': {
      const L = p.left ?? Infinity;
      const R = p.right ?? Infinity;
      return (i, j) => {
        const delta = i + offset - j;
        return delta >= -R && delta <= L;
      };
    }
    case 'dilated': {
      const d = p.dilation;
      const L = (p.left ?? Infinity) * d;
      const R = (p.right ?? Infinity) * d;
      return (i, j) => {
        const delta = i + offset - j;
        return delta % d === 0 && delta >= -R && delta <= L;
      };
    }
    case 'blockLocal': {
      const b = p.block;
      const L = p.left ?? Infinity;
      const R = p.right ?? Infinity;
      return (i, j) => {
        const delta = Math.floor((i + offset) / b) - Math.floor(j / b);
        return delta >= -R && delta <= L;
      };
    }
    case 'neighborhood': {
      const d = p.dilation ?? 1;
      const K = p.kernel;
      const n = ctx.seqK;
      return (i, j) => {
        if (i % d !== j % d) return false;
        const gi = Math.floor(i / d);
        const gj = Math.floor(j / d);
        if (p.causal) return gi - gj >= 0 && gi - gj < K;
        const size = groupSize(n, d, i % d);
        const start = neighborhoodStart(gi, size, K);
        return gj >= start && gj < start + Math.min(K, size);
      };
    }
    case 'global': {
      if ('tokens' in p) {
        const t = sortedSet(p.tokens);
        return (i, j) => sortedHas(t, i + offset) || sortedHas(t, j);
      }
      const gq = sortedSet(p.queries);
      const gk = sortedSet(p.keys);
      return (i, j) => sortedHas(gq, i) || sortedHas(gk, j);
    }
    case 'documents': {
      if ('offsets' in p) {
        return (i, j) => {
          const dq = documentOf(p.offsets, i + offset);
          return dq >= 0 && dq === documentOf(p.offsets, j);
        };
      }
      return (i, j) => {
        const dq = documentOf(p.q, i);
        return dq >= 0 && dq === documentOf(p.k, j);
      };
    }
    case 'randomBlocks': {
      const b = p.block;
      const m = Math.ceil(ctx.seqK / b);
      const draws = new Map<number, Int32Array>();
      return (i, j) => {
        const qb = Math.floor((i + offset) / b);
        let drawn = draws.get(qb);
        if (!drawn) {
          drawn = drawKeyBlocks(p.seed, qb, m, p.perRow);
          draws.set(qb, drawn);
        }
        return sortedHas(drawn, Math.floor(j / b));
      };
    }
    case 'union': {
      const parts = p.of.map((c) => makePredicate(c, ctx));
      return (i, j) => parts.some((f) => f(i, j));
    }
    case 'intersect': {
      const parts = p.of.map((c) => makePredicate(c, ctx));
      return (i, j) => parts.every((f) => f(i, j));
    }
    case 'not': {
      const inner = makePredicate(p.of, ctx);
      return (i, j) => !inner(i, j);
    }
    case 'explicit':
      return (i, j) => {
        for (let n = p.rowPtr[i]!; n < p.rowPtr[i + 1]!; n++) if (p.colIdx[n] === j) return true;
        return false;
      };
    default:
      throw new SparseAttentionError(
        'INVALID_PATTERN',
        `pattern.kind: "${(pattern as Pattern).kind}" is content-based and has no position predicate; use its "within"`,
        { field: 'pattern.kind' },
      );
  }
}
