import type { Pattern } from './types.js';

function sortedUnique(list: readonly number[]): number[] {
  return [...new Set(list)].sort((a, b) => a - b);
}

/**
 * The canonical form of a (validated) pattern: defaults filled, unbounded sides omitted, token lists sorted and
 * de-duplicated, union/intersect members sorted. Two patterns with the same canonical form allow the same pairs.
 */
export function canonicalPattern(p: Pattern): Pattern {
  switch (p.kind) {
    case 'dense':
    case 'causal':
      return { kind: p.kind };
    case 'local':
    case 'blockLocal':
    case 'dilated': {
      const out: Record<string, unknown> = { kind: p.kind };
      if (p.kind === 'dilated') out.dilation = p.dilation;
      if (p.kind === 'blockLocal') out.block = p.block;
      if (p.left !== undefined) out.left = p.left;
      if (p.right !== undefined) out.right = p.right;
      return out as unknown as Pattern;
    }
    case 'neighborhood':
      return { kind: 'neighborhood', kernel: p.kernel, dilation: p.dilation ?? 1, causal: p.causal ?? false };
    case 'global':
      return 'tokens' in p
        ? { kind: 'global', tokens: sortedUnique(p.tokens) }
        : { kind: 'global', queries: sortedUnique(p.queries), keys: sortedUnique(p.keys) };
    case 'documents':
      return 'offsets' in p ? { kind: 'documents', offsets: [...p.offsets] } : { kind: 'documents', q: [...p.q], k: [...p.k] };
    case 'randomBlocks':
      return { kind: 'randomBlocks', block: p.block, perRow: p.perRow, seed: p.seed };
    case 'union':
    case 'intersect': {
      const members = p.of.map(canonicalPattern);
      const keyed = members.map((m) => [JSON.stringify(m), m] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const unique = keyed.filter((e, n) => n === 0 || e[0] !== keyed[n - 1]![0]).map((e) => e[1]);
      return { kind: p.kind, of: unique };
    }
    case 'not':
      return { kind: 'not', of: canonicalPattern(p.of) };
    case 'explicit':
      return { kind: 'explicit', rowPtr: [...p.rowPtr], colIdx: [...p.colIdx] };
    case 'topk':
      return { kind: 'topk', k: p.k, within: canonicalPattern(p.within ?? { kind: 'dense' }) };
    case 'cluster':
      return { kind: 'cluster', centroids: p.centroids.map((r) => [...r]), within: canonicalPattern(p.within ?? { kind: 'dense' }) };
  }
}

/** A stable string key of a pattern, for caches and fixture manifests. */
export function patternKey(p: Pattern): string {
  return JSON.stringify(canonicalPattern(p));
}
