// (a) Bad input: attention() rejects (never throws synchronously) with core's code and field, and supports() returns
// the same message.
import type { AttentionRequest, Backend, Pattern, SparseErrorCode } from '@sparse/core';
import { makeRequest } from '@sparse/core/reference';
import { BehaviourFailure, check, expectReference, expectRejects } from './assert.js';
import { smallRequest } from './requests.js';
import type { BehaviourContext } from './types.js';

export interface BadInput {
  name: string;
  /** A new bad request each time (a detached buffer cannot be reused). */
  make: () => unknown;
  code: SparseErrorCode;
  field: string;
}

/** A valid base: B 1, Hq 2, Hkv 2, Sq = Sk = 8, D 4, bhsd. */
const base = (extra: Partial<AttentionRequest> = {}, pattern: Pattern | Pattern[] = { kind: 'causal' }) =>
  makeRequest({ Hq: 2, Sq: 8, D: 4, seed: 3 }, pattern, extra);

const withTensor = (name: 'q' | 'k' | 'v', data: unknown, shape: unknown) => {
  const r = base();
  return { ...r, [name]: { data, shape } };
};

const detached = () => {
  const r = base();
  const data = r.q.data;
  structuredClone(data.buffer, { transfer: [data.buffer] });
  return r;
};

/** The table of bad inputs every backend must refuse the same way. */
export const BAD_INPUTS: readonly BadInput[] = [
  { name: 'request is null', make: () => null, code: 'INVALID_ARGUMENT', field: 'request' },
  { name: 'q.shape of rank 3', make: () => withTensor('q', new Float32Array(64), [2, 8, 4]), code: 'INVALID_SHAPE', field: 'q.shape' },
  { name: 'q.shape with a zero size', make: () => withTensor('q', new Float32Array(64), [1, 0, 8, 4]), code: 'INVALID_SHAPE', field: 'q.shape[1]' },
  { name: 'q.data a Float64Array', make: () => withTensor('q', new Float64Array(64), [1, 2, 8, 4]), code: 'INVALID_ARGUMENT', field: 'q.data' },
  {
    name: 'k.data a plain array',
    make: () =>
      withTensor(
        'k',
        Array.from({ length: 64 }, () => 0),
        [1, 2, 8, 4],
      ),
    code: 'INVALID_ARGUMENT',
    field: 'k.data',
  },
  { name: 'q.data detached (its buffer transferred)', make: detached, code: 'INVALID_ARGUMENT', field: 'q.data' },
  { name: 'v.data shorter than its shape', make: () => withTensor('v', new Float32Array(60), [1, 2, 8, 4]), code: 'INVALID_SHAPE', field: 'v.data' },
  { name: 'k batch differs from q', make: () => withTensor('k', new Float32Array(128), [2, 2, 8, 4]), code: 'INVALID_SHAPE', field: 'k.shape[0]' },
  { name: 'v heads differ from k', make: () => withTensor('v', new Float32Array(32), [1, 1, 8, 4]), code: 'INVALID_SHAPE', field: 'v.shape[1]' },
  { name: 'v seq differs from k', make: () => withTensor('v', new Float32Array(56), [1, 2, 7, 4]), code: 'INVALID_SHAPE', field: 'v.shape[2]' },
  { name: 'k head dim differs from q', make: () => withTensor('k', new Float32Array(80), [1, 2, 8, 5]), code: 'INVALID_SHAPE', field: 'k.shape[3]' },
  {
    name: 'GQA: kv heads do not divide the query heads (bhsd)',
    make: () => makeRequest({ Hq: 3, Hkv: 2, Sq: 8, D: 4 }, { kind: 'causal' }),
    code: 'INVALID_SHAPE',
    field: 'k.shape[1]',
  },
  {
    name: 'GQA: kv heads do not divide the query heads (bshd)',
    make: () => makeRequest({ Hq: 4, Hkv: 3, Sq: 8, D: 4, layout: 'bshd' }, { kind: 'causal' }),
    code: 'INVALID_SHAPE',
    field: 'k.shape[2]',
  },
  { name: 'layout "bsdh"', make: () => base({ layout: 'bsdh' as never }), code: 'INVALID_ARGUMENT', field: 'layout' },
  { name: 'scale NaN', make: () => base({ scale: Number.NaN }), code: 'INVALID_ARGUMENT', field: 'scale' },
  { name: 'scale Infinity', make: () => base({ scale: Infinity }), code: 'INVALID_ARGUMENT', field: 'scale' },
  { name: 'scale a string', make: () => base({ scale: '0.5' as never }), code: 'INVALID_ARGUMENT', field: 'scale' },
  { name: 'queryOffset 1.5', make: () => base({ queryOffset: 1.5 }), code: 'INVALID_ARGUMENT', field: 'queryOffset' },
  { name: 'returnLse "yes"', make: () => base({ returnLse: 'yes' as never }), code: 'INVALID_ARGUMENT', field: 'returnLse' },
  { name: 'pattern.left negative', make: () => base({}, { kind: 'local', left: -1, right: 2 }), code: 'INVALID_PATTERN', field: 'pattern.left' },
  { name: 'pattern.kind unknown', make: () => base({}, { kind: 'sliding' } as never), code: 'INVALID_PATTERN', field: 'pattern.kind' },
  { name: 'pattern.dilation 0', make: () => base({}, { kind: 'dilated', dilation: 0 }), code: 'INVALID_PATTERN', field: 'pattern.dilation' },
  {
    name: 'per-head pattern array of the wrong length',
    make: () => base({}, [{ kind: 'causal' }, { kind: 'dense' }, { kind: 'dense' }]),
    code: 'INVALID_PATTERN',
    field: 'pattern',
  },
  {
    name: 'per-head pattern[1].right negative',
    make: () => base({}, [{ kind: 'causal' }, { kind: 'local', left: 1, right: -2 }]),
    code: 'INVALID_PATTERN',
    field: 'pattern[1].right',
  },
];

/** One bad input: attention() rejects with the case's code and field, and supports() gives the same message. */
export async function checkBadInput(backend: Backend, bad: BadInput): Promise<void> {
  const e = await expectRejects(`attention(${bad.name})`, () => backend.attention(bad.make() as AttentionRequest), bad.code, bad.field);
  let s: true | string;
  try {
    s = backend.supports(bad.make() as AttentionRequest);
  } catch (x) {
    throw new BehaviourFailure(`supports(${bad.name}) threw instead of returning a message: ${String(x)}`);
  }
  check(s === e.message, `supports(${bad.name}) returned ${JSON.stringify(s)}, expected attention()'s message ${JSON.stringify(e.message)}`);
}

/** A fresh backend whose first call is bad rejects it, and its next call runs. */
export async function checkBadFirstCall(ctx: BehaviourContext): Promise<void> {
  await ctx.fresh(async (b) => {
    const bad = BAD_INPUTS.find((x) => x.name === 'pattern.left negative')!;
    await checkBadInput(b, bad);
    const request = smallRequest();
    expectReference(b, request, await b.attention(request), `${b.name}: the call after a rejected first call`);
  });
}
