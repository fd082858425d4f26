import { fail } from '../errors.js';
import type { Pattern } from './types.js';
import { PATTERN_KINDS } from './types.js';

/** Largest accepted size or index: keeps every product of two sizes exact in float64 and int math in kernels. */
export const MAX_INDEX = 2 ** 31 - 1;

const ALLOWED_KEYS: Record<string, readonly string[]> = {
  dense: [],
  causal: [],
  local: ['left', 'right'],
  dilated: ['dilation', 'left', 'right'],
  blockLocal: ['block', 'left', 'right'],
  neighborhood: ['kernel', 'dilation', 'causal'],
  global: ['tokens', 'queries', 'keys'],
  documents: ['offsets', 'q', 'k'],
  randomBlocks: ['block', 'perRow', 'seed'],
  union: ['of'],
  intersect: ['of'],
  not: ['of'],
  explicit: ['rowPtr', 'colIdx'],
  topk: ['k', 'within'],
  cluster: ['centroids', 'within'],
};

function isInt(x: unknown, min: number, max = MAX_INDEX): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= min && x <= max;
}

function int(obj: Record<string, unknown>, key: string, field: string, min: number, optional: boolean, max = MAX_INDEX): void {
  const v = obj[key];
  if (v === undefined && optional) return;
  if (!isInt(v, min, max)) {
    fail('INVALID_PATTERN', `${field}.${key}`, `must be an integer in [${min}, ${max}]`, v);
  }
}

function intList(
  obj: Record<string, unknown>,
  key: string,
  field: string,
  opts: { increasing?: 'strict' | 'weak'; startsAtZero?: boolean; nonEmpty?: boolean } = {},
): void {
  const v = obj[key];
  if (!Array.isArray(v)) fail('INVALID_PATTERN', `${field}.${key}`, 'must be an array of non-negative integers', v);
  if (opts.nonEmpty && v.length === 0) fail('INVALID_PATTERN', `${field}.${key}`, 'must not be empty', v);
  for (let n = 0; n < v.length; n++) {
    if (!isInt(v[n], 0)) fail('INVALID_PATTERN', `${field}.${key}[${n}]`, `must be an integer in [0, ${MAX_INDEX}]`, v[n]);
    if (n > 0 && opts.increasing) {
      const bad = opts.increasing === 'strict' ? v[n] <= v[n - 1] : v[n] < v[n - 1];
      if (bad) {
        const rule = opts.increasing === 'strict' ? 'strictly increasing' : 'non-decreasing';
        fail('INVALID_PATTERN', `${field}.${key}[${n}]`, `must be ${rule} (previous is ${v[n - 1]})`, v[n]);
      }
    }
  }
  if (opts.startsAtZero && v.length > 0 && v[0] !== 0) fail('INVALID_PATTERN', `${field}.${key}[0]`, 'must be 0 (cu_seqlens style offsets)', v[0]);
}

/** Deepest accepted nesting of composed patterns (the root is level 1). */
export const MAX_PATTERN_DEPTH = 256;
/** Most pattern nodes accepted in one pattern, counting a node shared by several parents once per parent. */
export const MAX_PATTERN_NODES = 100_000;

interface PendingNode {
  value: unknown;
  field: string;
  root: boolean;
  depth: number;
}

/**
 * Structural validation of a pattern (no shapes needed). Throws `INVALID_PATTERN` naming the field and value.
 * Content-based kinds (`topk`, `cluster`) are only accepted at the root, with a static `within`.
 * Iterative, with a depth and a size limit, so a deep, huge or self-containing pattern is refused with a typed
 * error instead of overflowing the stack or hanging every later pass over the pattern.
 */
export function validatePattern(p: unknown, field = 'pattern', root = true): asserts p is Pattern {
  // Depth-first in the order a recursive walk takes, so the first error reported is the same one.
  const stack: (PendingNode | { leave: object })[] = [{ value: p, field, root, depth: 1 }];
  const path = new Set<object>();
  let nodes = 0;
  while (stack.length > 0) {
    const top = stack.pop()!;
    if ('leave' in top) {
      path.delete(top.leave);
      continue;
    }
    if (typeof top.value === 'object' && top.value !== null) {
      if (path.has(top.value)) fail('INVALID_PATTERN', top.field, 'contains itself (a pattern must be a tree, not a cycle)');
      if (top.depth > MAX_PATTERN_DEPTH) fail('INVALID_PATTERN', top.field, `is nested deeper than ${MAX_PATTERN_DEPTH} levels`);
      if (++nodes > MAX_PATTERN_NODES) fail('INVALID_PATTERN', top.field, `makes the pattern larger than ${MAX_PATTERN_NODES} nodes`);
    }
    const children = validateNode(top.value, top.field, top.root);
    if (children.length === 0) continue;
    path.add(top.value as object);
    stack.push({ leave: top.value as object });
    for (let n = children.length - 1; n >= 0; n--) stack.push({ ...children[n]!, depth: top.depth + 1 });
  }
}

/** Checks one node's own fields; returns its sub-patterns (validated next by the caller). */
function validateNode(p: unknown, field: string, root: boolean): Omit<PendingNode, 'depth'>[] {
  if (typeof p !== 'object' || p === null || Array.isArray(p)) {
    fail('INVALID_PATTERN', field, 'must be a pattern object with a "kind"', p);
  }
  const obj = p as Record<string, unknown>;
  const kind = obj.kind;
  if (typeof kind !== 'string' || !(PATTERN_KINDS as readonly string[]).includes(kind)) {
    fail('INVALID_PATTERN', `${field}.kind`, `unknown pattern kind; expected one of ${PATTERN_KINDS.join(', ')}`, kind);
  }
  for (const key of Object.keys(obj)) {
    if (key !== 'kind' && !ALLOWED_KEYS[kind]!.includes(key)) {
      fail('INVALID_PATTERN', `${field}.${key}`, `is not a field of a "${kind}" pattern (fields: ${ALLOWED_KEYS[kind]!.join(', ') || 'none'})`);
    }
  }
  switch (kind) {
    case 'local':
      int(obj, 'left', field, 0, true);
      int(obj, 'right', field, 0, true);
      return [];
    case 'dilated':
      int(obj, 'dilation', field, 1, false);
      int(obj, 'left', field, 0, true);
      int(obj, 'right', field, 0, true);
      return [];
    case 'blockLocal':
      int(obj, 'block', field, 1, false);
      int(obj, 'left', field, 0, true);
      int(obj, 'right', field, 0, true);
      return [];
    case 'neighborhood':
      int(obj, 'kernel', field, 1, false);
      int(obj, 'dilation', field, 1, true);
      if (obj.causal !== undefined && typeof obj.causal !== 'boolean') fail('INVALID_PATTERN', `${field}.causal`, 'must be a boolean', obj.causal);
      return [];
    case 'global':
      if ('tokens' in obj) {
        if ('queries' in obj || 'keys' in obj) fail('INVALID_PATTERN', field, 'give either "tokens" or both "queries" and "keys", not both forms');
        intList(obj, 'tokens', field);
      } else {
        if (!('queries' in obj) || !('keys' in obj)) fail('INVALID_PATTERN', field, 'a global pattern needs "tokens", or both "queries" and "keys"');
        intList(obj, 'queries', field);
        intList(obj, 'keys', field);
      }
      return [];
    case 'documents':
      if ('offsets' in obj) {
        if ('q' in obj || 'k' in obj) fail('INVALID_PATTERN', field, 'give either "offsets" or both "q" and "k", not both forms');
        intList(obj, 'offsets', field, { increasing: 'weak', startsAtZero: true, nonEmpty: true });
      } else {
        if (!('q' in obj) || !('k' in obj)) fail('INVALID_PATTERN', field, 'a documents pattern needs "offsets", or both "q" and "k"');
        intList(obj, 'q', field, { increasing: 'weak', startsAtZero: true, nonEmpty: true });
        intList(obj, 'k', field, { increasing: 'weak', startsAtZero: true, nonEmpty: true });
        const q = obj.q as number[];
        const k = obj.k as number[];
        if (q.length !== k.length) fail('INVALID_PATTERN', `${field}.k`, `must list as many documents as q (${q.length - 1}); length`, k.length);
      }
      return [];
    case 'randomBlocks':
      int(obj, 'block', field, 1, false);
      int(obj, 'perRow', field, 0, false);
      int(obj, 'seed', field, 0, false, 2 ** 32 - 1);
      return [];
    case 'union':
    case 'intersect': {
      const of = obj.of;
      if (!Array.isArray(of) || of.length === 0) fail('INVALID_PATTERN', `${field}.of`, `must be a non-empty array of patterns`, of);
      return of.map((child, n) => ({ value: child, field: `${field}.of[${n}]`, root: false }));
    }
    case 'not':
      if (Array.isArray(obj.of)) fail('INVALID_PATTERN', `${field}.of`, 'must be one pattern (not an array)', obj.of);
      return [{ value: obj.of, field: `${field}.of`, root: false }];
    case 'explicit': {
      intList(obj, 'rowPtr', field, { increasing: 'weak', startsAtZero: true, nonEmpty: true });
      intList(obj, 'colIdx', field);
      const rowPtr = obj.rowPtr as number[];
      const colIdx = obj.colIdx as number[];
      if (rowPtr[rowPtr.length - 1] !== colIdx.length) {
        fail('INVALID_PATTERN', `${field}.rowPtr[${rowPtr.length - 1}]`, `must equal colIdx.length (${colIdx.length})`, rowPtr[rowPtr.length - 1]);
      }
      for (let r = 0; r + 1 < rowPtr.length; r++) {
        for (let n = rowPtr[r]! + 1; n < rowPtr[r + 1]!; n++) {
          if (colIdx[n]! <= colIdx[n - 1]!)
            fail('INVALID_PATTERN', `${field}.colIdx[${n}]`, `keys of row ${r} must be strictly increasing (previous is ${colIdx[n - 1]})`, colIdx[n]);
        }
      }
      return [];
    }
    case 'topk':
    case 'cluster': {
      if (!root) fail('INVALID_PATTERN', field, `a content-based "${kind}" pattern must be the root of a pattern; compose static patterns in its "within"`);
      if (kind === 'topk') int(obj, 'k', field, 1, false);
      else {
        const c = obj.centroids;
        if (!Array.isArray(c) || c.length === 0) fail('INVALID_PATTERN', `${field}.centroids`, 'must be a non-empty array of [D] vectors', c);
        const d = Array.isArray(c[0]) ? c[0].length : -1;
        c.forEach((row, n) => {
          if (!Array.isArray(row) || row.length !== d || d === 0)
            fail('INVALID_PATTERN', `${field}.centroids[${n}]`, `must be an array of ${d > 0 ? d : 'D'} numbers`, row);
          let norm = 0;
          row.forEach((x: unknown, m: number) => {
            if (typeof x !== 'number' || !Number.isFinite(x)) fail('INVALID_PATTERN', `${field}.centroids[${n}][${m}]`, 'must be a finite number', x);
            norm += x * x;
          });
          if (norm === 0) fail('INVALID_PATTERN', `${field}.centroids[${n}]`, 'must not be the zero vector (it is normalised)', row);
          if (!Number.isFinite(norm)) fail('INVALID_PATTERN', `${field}.centroids[${n}]`, 'is too large to normalise (its squared norm overflows)', row);
        });
      }
      return obj.within === undefined ? [] : [{ value: obj.within, field: `${field}.within`, root: false }];
    }
    default: // dense, causal
      return [];
  }
}

/** Sizes a pattern is applied to. */
export interface PatternContext {
  seqQ: number;
  seqK: number;
  /** p = i + offset. */
  offset: number;
  headDim: number;
}

function inRange(list: number[], limit: number, field: string, what: string): void {
  for (let n = 0; n < list.length; n++) {
    if (list[n]! >= limit) fail('INVALID_PATTERN', `${field}[${n}]`, `${what} must be < ${limit}`, list[n]);
  }
}

function lastAtMost(list: number[], limit: number, field: string, what: string): void {
  const last = list[list.length - 1]!;
  if (last > limit) fail('INVALID_PATTERN', `${field}[${list.length - 1}]`, `the last offset must be <= ${what} (${limit})`, last);
}

/** Checks what only the shapes can tell (indices in range, NATTEN's square requirement, centroid width). */
export function validatePatternForShapes(p: Pattern, ctx: PatternContext, field = 'pattern'): void {
  switch (p.kind) {
    case 'neighborhood':
      if (ctx.seqQ !== ctx.seqK || ctx.offset !== 0) {
        fail('INVALID_PATTERN', field, `neighborhood attention needs Sq == Sk and query offset 0 (got Sq=${ctx.seqQ}, Sk=${ctx.seqK}, offset=${ctx.offset})`);
      }
      return;
    case 'global':
      if ('tokens' in p) inRange(p.tokens, ctx.seqK, `${field}.tokens`, 'a global token (a key position)');
      else {
        inRange(p.queries, ctx.seqQ, `${field}.queries`, 'a global query index');
        inRange(p.keys, ctx.seqK, `${field}.keys`, 'a global key index');
      }
      return;
    case 'documents':
      if ('offsets' in p) lastAtMost(p.offsets, ctx.seqK, `${field}.offsets`, 'Sk');
      else {
        lastAtMost(p.q, ctx.seqQ, `${field}.q`, 'Sq');
        lastAtMost(p.k, ctx.seqK, `${field}.k`, 'Sk');
      }
      return;
    case 'explicit':
      if (p.rowPtr.length !== ctx.seqQ + 1) fail('INVALID_PATTERN', `${field}.rowPtr`, `must have Sq + 1 = ${ctx.seqQ + 1} entries; length`, p.rowPtr.length);
      inRange(p.colIdx, ctx.seqK, `${field}.colIdx`, 'a key index');
      return;
    case 'union':
    case 'intersect':
      p.of.forEach((c, n) => {
        validatePatternForShapes(c, ctx, `${field}.of[${n}]`);
      });
      return;
    case 'not':
      validatePatternForShapes(p.of, ctx, `${field}.of`);
      return;
    case 'topk':
      if (p.within) validatePatternForShapes(p.within, ctx, `${field}.within`);
      return;
    case 'cluster':
      if (p.centroids[0]!.length !== ctx.headDim) {
        fail('INVALID_PATTERN', `${field}.centroids[0]`, `must have D = ${ctx.headDim} entries (the head dim of q and k); length`, p.centroids[0]!.length);
      }
      if (p.within) validatePatternForShapes(p.within, ctx, `${field}.within`);
      return;
    default:
      return;
  }
}

/** Parses JSON text (or an already-parsed value) into a validated pattern. */
export function parsePattern(json: string | unknown, field = 'pattern'): Pattern {
  let value: unknown = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (e) {
      fail('INVALID_PATTERN', field, `is not valid JSON: ${(e as Error).message}`, json);
    }
  }
  validatePattern(value, field);
  return value;
}
