import { type Compiled, compile, maskAllows } from './mask.js';
import type { Pattern } from './sparse.js';

/** Why a pair is allowed: the parts of a union (or the global tokens) that allow it, in words. */

function describe(p: Pattern): string {
  switch (p.kind) {
    case 'local':
      return `local{${p.left ?? '∞'}, ${p.right ?? '∞'}}`;
    case 'dilated':
      return `dilated{d=${p.dilation}}`;
    case 'blockLocal':
      return `blockLocal{block=${p.block}}`;
    case 'neighborhood':
      return `neighborhood{kernel=${p.kernel}}`;
    case 'randomBlocks':
      return `randomBlocks{block=${p.block}}`;
    default:
      return p.kind;
  }
}

/** Why `global` allows (i, j): the query is global, the key is, or both. */
function globalWhy(p: Extract<Pattern, { kind: 'global' }>, i: number, j: number, offset: number): string {
  const q = 'tokens' in p ? p.tokens.includes(i + offset) : p.queries.includes(i);
  const k = 'tokens' in p ? p.tokens.includes(j) : p.keys.includes(j);
  return `global (${[q ? 'global query' : '', k ? 'global key' : ''].filter(Boolean).join(' and ')})`;
}

export class Attribution {
  private parts: { pattern: Pattern; compiled: Compiled | null }[] = [];
  private key = '';

  /** The sub-patterns of `pattern` that allow (i, j), named; [] when the pattern is not a union. */
  explain(pattern: Pattern, sq: number, sk: number, tile: number, i: number, j: number): string[] {
    const root = pattern.kind === 'topk' || pattern.kind === 'cluster' ? pattern.within : pattern;
    if (!root) return [];
    if (root.kind === 'global') return maskAllowsPattern(root, i, j, sk - sq) ? [globalWhy(root, i, j, sk - sq)] : [];
    if (root.kind !== 'union') return [];
    const key = `${JSON.stringify(root)}|${sq}|${sk}|${tile}`;
    if (key !== this.key) {
      this.key = key;
      this.parts = root.of.map((p) => ({ pattern: p, compiled: null }));
    }
    const why: string[] = [];
    this.parts.forEach((part, n) => {
      // Each part compiles once, on the first hover over it.
      part.compiled ??= compile(part.pattern, sq, sk, tile);
      if (!maskAllows(part.compiled.mask, i, j)) return;
      why.push(part.pattern.kind === 'global' ? `of[${n}] ${globalWhy(part.pattern, i, j, sk - sq)}` : `of[${n}] ${describe(part.pattern)}`);
    });
    return why;
  }
}

function maskAllowsPattern(p: Extract<Pattern, { kind: 'global' }>, i: number, j: number, offset: number): boolean {
  return 'tokens' in p ? p.tokens.includes(i + offset) || p.tokens.includes(j) : p.queries.includes(i) || p.keys.includes(j);
}
