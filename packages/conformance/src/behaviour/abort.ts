// (b) Abort: an aborted signal rejects ABORTED (field 'signal') before anything runs; a call aborted while it runs
// resolves or rejects ABORTED within a bound, never hangs or crashes, and the backend's next call works.
import { type AttentionRequest, type AttentionResult, type Backend, isSparseAttentionError } from '@sparse/core';
import { resultShapes } from '../testing/compare.js';
import { check, expectReference, expectRejects, sleep, within } from './assert.js';
import { slowRequest, smallRequest } from './requests.js';
import type { BehaviourContext } from './types.js';

/** An already-aborted signal: ABORTED field 'signal', on a fresh backend and on the started one. */
export async function checkAbortedBefore(ctx: BehaviourContext): Promise<void> {
  const signal = AbortSignal.abort();
  await ctx.fresh(async (b) => {
    await expectRejects(`${b.name} (fresh): attention() with an aborted signal`, () => b.attention(smallRequest(), { signal }), 'ABORTED', 'signal');
    expectReference(b, smallRequest(), await b.attention(smallRequest()), `${b.name} (fresh): the call after an aborted one`);
  });
  const b = ctx.started;
  await expectRejects(`${b.name}: attention() with an aborted signal`, () => b.attention(smallRequest(), { signal }), 'ABORTED', 'signal');
}

/** What an aborted call may do: resolve with a result of the right shape, or reject ABORTED field 'signal'. */
async function settles(what: string, request: AttentionRequest, p: Promise<AttentionResult>, ms: number): Promise<'resolved' | 'aborted'> {
  let result: AttentionResult;
  try {
    result = await within(what, ms, p);
  } catch (e) {
    if (!isSparseAttentionError(e)) throw e;
    check(
      e.code === 'ABORTED' && e.field === 'signal',
      `${what}: rejected ${e.code} field '${e.field}' (${e.message}), expected ABORTED field 'signal' or a result`,
    );
    return 'aborted';
  }
  const shape = resultShapes(request).out;
  check(result?.out?.data?.length === shape.reduce((a, x) => a * x, 1), `${what}: resolved without a whole out`);
  return 'resolved';
}

/**
 * Aborts the long call `delay` ms after starting it (0: in the same tick), on `b`; then checks the next call.
 * Returns what the aborted call did.
 */
export async function abortDuring(ctx: BehaviourContext, b: Backend, delay: number): Promise<'resolved' | 'aborted'> {
  const request = slowRequest(ctx.options.slowCall);
  const controller = new AbortController();
  const what = `${b.name}: a call aborted after ${delay} ms`;
  let p: Promise<AttentionResult>;
  try {
    p = b.attention(request, { signal: controller.signal });
  } catch (e) {
    throw new Error(`${what}: attention() threw synchronously: ${String(e)}`);
  }
  if (delay > 0) await sleep(delay);
  controller.abort();
  const outcome = await settles(what, request, p, ctx.options.settleMs ?? 60_000);
  const next = smallRequest(7);
  expectReference(
    b,
    next,
    await within(`${b.name}: the call after an aborted one`, ctx.options.settleMs ?? 60_000, b.attention(next)),
    `${b.name}: the call after an aborted one`,
  );
  return outcome;
}

/** Aborting in the same tick and after `abortAfterMs`, on the started backend and on a fresh one. */
export async function checkAbortDuring(ctx: BehaviourContext): Promise<void> {
  await abortDuring(ctx, ctx.started, 0);
  await abortDuring(ctx, ctx.started, ctx.options.abortAfterMs ?? 5);
  await ctx.fresh(async (b) => {
    await abortDuring(ctx, b, ctx.options.abortAfterMs ?? 5);
  });
}
