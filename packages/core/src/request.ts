import { fail } from './errors.js';
import type { Pattern } from './pattern/types.js';
import { MAX_INDEX, validatePattern, validatePatternForShapes } from './pattern/validate.js';
import type { AttentionDims, HostTensor, Layout } from './tensor.js';

/** One attention call (docs/design.md: Tensors, Patterns). */
export interface AttentionRequest {
  q: HostTensor;
  k: HostTensor;
  v: HostTensor;
  /** One pattern for every head, or one per query head (length Hq). */
  pattern: Pattern | readonly Pattern[];
  /** Defaults to 1 / sqrt(D). */
  scale?: number;
  /** p = i + queryOffset; defaults to Sk - Sq (bottom-right alignment). */
  queryOffset?: number;
  layout?: Layout;
  /** Also return lse [B, Hq, Sq] (natural log of the softmax denominator). */
  returnLse?: boolean;
}

export interface AttentionResult {
  /** [B, Hq, Sq, Dv] in the request's layout. */
  out: HostTensor;
  /** [B, Hq, Sq] when requested; -Infinity for rows with no allowed key. */
  lse?: HostTensor;
}

/** A validated request with its sizes resolved. */
export interface AttentionPlan extends AttentionDims {
  layout: Layout;
  scale: number;
  offset: number;
  returnLse: boolean;
  /** headsQ / headsKv: query head h reads kv head floor(h / group). */
  group: number;
  /**
   * One pattern per query head (the same object repeated when the request gave one): a private copy taken at
   * validation, so later mutation of the request's pattern objects cannot change a pending call.
   */
  patterns: Pattern[];
}

function shape4(shape: unknown, name: string): number[] {
  if (!Array.isArray(shape) && !ArrayBuffer.isView(shape)) fail('INVALID_SHAPE', `${name}.shape`, 'must be an array of 4 sizes', shape);
  const s = Array.from(shape as ArrayLike<number>);
  if (s.length !== 4) fail('INVALID_SHAPE', `${name}.shape`, `must have rank 4 ([B, H, S, D] or [B, S, H, D]); rank ${s.length}`, s);
  s.forEach((x, n) => {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 1 || x > MAX_INDEX)
      fail('INVALID_SHAPE', `${name}.shape[${n}]`, `must be a positive integer <= ${MAX_INDEX}`, x);
  });
  return s;
}

function dims4(t: unknown, name: string): number[] {
  if (typeof t !== 'object' || t === null) fail('INVALID_SHAPE', name, 'must be a tensor { data: Float32Array, shape: [4 sizes] }', t);
  const { data, shape } = t as { data?: unknown; shape?: unknown };
  const s = shape4(shape, name);
  if (!(data instanceof Float32Array)) fail('INVALID_ARGUMENT', `${name}.data`, 'must be a Float32Array', data);
  // Every size is >= 1, so an empty array is one whose buffer was transferred (detached) or never filled.
  if (data.length === 0) fail('INVALID_ARGUMENT', `${name}.data`, 'is detached (its ArrayBuffer was transferred) or empty', data);
  const size = s[0]! * s[1]! * s[2]! * s[3]!;
  if (data.length !== size)
    fail('INVALID_SHAPE', `${name}.data`, `length must equal the product of ${name}.shape ${JSON.stringify(s)} = ${size}; length`, data.length);
  return s;
}

/**
 * A deep copy of a pattern (or per-head array). Proxies, such as the reactive state of UI frameworks, cannot be
 * structured-cloned; patterns are JSON data, so those are copied as JSON once validation has bounded their size.
 */
function privateCopy(value: unknown, field: string): unknown {
  try {
    return structuredClone(value);
  } catch {
    if (!Array.isArray(value)) validatePattern(value, field);
    else
      value.forEach((p, h) => {
        validatePattern(p, `${field}[${h}]`);
      });
    try {
      return JSON.parse(JSON.stringify(value));
    } catch (e) {
      return fail('INVALID_PATTERN', field, `cannot be copied as JSON data (${(e as Error).message})`);
    }
  }
}

/** A request described by shapes only: what a resident entry point (GPU buffers, tf.Tensors) validates. */
export interface ShapeRequest extends Omit<AttentionRequest, 'q' | 'k' | 'v'> {
  q: readonly number[];
  k: readonly number[];
  v: readonly number[];
}

/** Validates a request in full (shapes, data, options, patterns) and resolves its sizes. Throws SparseAttentionError. */
export function planAttention(request: AttentionRequest): AttentionPlan {
  if (typeof request !== 'object' || request === null) fail('INVALID_ARGUMENT', 'request', 'must be an object with q, k, v and pattern', request);
  checkLayout(request.layout);
  return planShapes(request, dims4(request.q, 'q'), dims4(request.k, 'k'), dims4(request.v, 'v'));
}

/**
 * The same validation as planAttention for a request given by shapes (the tensors live on a device): every rule
 * and message is the same, field names included (`q.shape[2]`, `pattern.left`, …).
 */
export function planAttentionShapes(request: ShapeRequest): AttentionPlan {
  if (typeof request !== 'object' || request === null) fail('INVALID_ARGUMENT', 'request', 'must be an object with q, k, v shapes and pattern', request);
  checkLayout(request.layout);
  return planShapes(request, shape4(request.q, 'q'), shape4(request.k, 'k'), shape4(request.v, 'v'));
}

function checkLayout(layout: unknown): void {
  if (layout !== undefined && layout !== 'bhsd' && layout !== 'bshd') fail('INVALID_ARGUMENT', 'layout', 'must be "bhsd" or "bshd"', layout);
}

function planShapes(request: Omit<AttentionRequest, 'q' | 'k' | 'v'>, q: number[], k: number[], v: number[]): AttentionPlan {
  const layout = request.layout ?? 'bhsd';
  const [hAxis, sAxis] = layout === 'bhsd' ? [1, 2] : [2, 1];
  const batch = q[0]!;
  const headsQ = q[hAxis]!;
  const seqQ = q[sAxis]!;
  const headDim = q[3]!;
  const headsKv = k[hAxis]!;
  const seqK = k[sAxis]!;
  const headDimV = v[3]!;
  if (k[0] !== batch) fail('INVALID_SHAPE', 'k.shape[0]', `batch must equal q's (${batch})`, k[0]);
  if (v[0] !== batch) fail('INVALID_SHAPE', 'v.shape[0]', `batch must equal q's (${batch})`, v[0]);
  if (k[3] !== headDim) fail('INVALID_SHAPE', 'k.shape[3]', `head dim must equal q's (${headDim})`, k[3]);
  if (v[hAxis] !== headsKv) fail('INVALID_SHAPE', `v.shape[${hAxis}]`, `heads must equal k's (${headsKv})`, v[hAxis]);
  if (v[sAxis] !== seqK) fail('INVALID_SHAPE', `v.shape[${sAxis}]`, `sequence length must equal k's (${seqK})`, v[sAxis]);
  if (headsQ % headsKv !== 0) fail('INVALID_SHAPE', `k.shape[${hAxis}]`, `kv heads must divide the query heads (${headsQ}) for GQA/MQA`, headsKv);

  const scale = request.scale ?? 1 / Math.sqrt(headDim);
  if (typeof scale !== 'number' || !Number.isFinite(scale)) fail('INVALID_ARGUMENT', 'scale', 'must be a finite number', scale);
  const offset = request.queryOffset ?? seqK - seqQ;
  if (typeof offset !== 'number' || !Number.isInteger(offset) || Math.abs(offset) > MAX_INDEX)
    fail('INVALID_ARGUMENT', 'queryOffset', 'must be an integer', offset);
  const returnLse = request.returnLse ?? false;
  if (typeof returnLse !== 'boolean') fail('INVALID_ARGUMENT', 'returnLse', 'must be a boolean', returnLse);

  let patterns: Pattern[];
  const ctx = { seqQ, seqK, offset, headDim };
  if (Array.isArray(request.pattern)) {
    if (request.pattern.length !== headsQ)
      fail('INVALID_PATTERN', 'pattern', `a per-head pattern array must have one pattern per query head (${headsQ}); length`, request.pattern.length);
    // The copy is what gets validated and run: the caller may mutate its patterns once the call returns, and a
    // getter cannot show validation one value and the kernel another. Shared sub-patterns stay shared.
    patterns = privateCopy(request.pattern, 'pattern') as Pattern[];
    patterns.forEach((p, h) => {
      validatePattern(p, `pattern[${h}]`);
      validatePatternForShapes(p, ctx, `pattern[${h}]`);
    });
  } else {
    const pattern = privateCopy(request.pattern, 'pattern');
    validatePattern(pattern, 'pattern');
    validatePatternForShapes(pattern, ctx, 'pattern');
    patterns = new Array<Pattern>(headsQ).fill(pattern);
  }
  return { batch, headsQ, headsKv, seqQ, seqK, headDim, headDimV, layout, scale, offset, returnLse, group: headsQ / headsKv, patterns };
}

/**
 * What a call keeps once attention() has returned: private copies of q, k and v, and the plan's private patterns
 * and resolved options. A backend that reads its inputs after an await takes this first (docs/design.md, "Inputs
 * belong to the caller again when attention() returns").
 */
export function ownedRequest(request: AttentionRequest, plan: AttentionPlan): AttentionRequest {
  const copy = (t: HostTensor): HostTensor => ({ data: t.data.slice(), shape: Array.from(t.shape) });
  return {
    q: copy(request.q),
    k: copy(request.k),
    v: copy(request.v),
    pattern: plan.patterns,
    scale: plan.scale,
    queryOffset: plan.offset,
    layout: plan.layout,
    returnLse: plan.returnLse,
  };
}

/**
 * A call on tensors that live on a backend's device (GPU buffers, tf.Tensors, CUDA tensors, wasm memory): the
 * same fields as AttentionRequest with the backend's tensor type. Every backend's `attentionResident` takes it.
 */
export type ResidentRequest<T> = Omit<AttentionRequest, 'q' | 'k' | 'v'> & { q: T; k: T; v: T };

/** What `attentionResident` returns: out (and lse when asked) as tensors of the same backend. */
export interface ResidentResult<T> {
  out: T;
  lse?: T;
}
