// (d) A burst of eight different calls in flight equals the same calls run one after another, within the backend's
// tolerance, and both equal core's float64 reference within it.
import type { AttentionResult, Backend } from '@sparse/core';
import { resultMismatch } from '../testing/compare.js';
import { BehaviourFailure, check, expectReference, toleranceOf, within } from './assert.js';
import { accepted, burstRequests } from './requests.js';
import type { BehaviourContext } from './types.js';

async function burst(ctx: BehaviourContext, b: Backend, what: string): Promise<void> {
  const calls = accepted(b, burstRequests());
  const settle = ctx.options.settleMs ?? 60_000;
  const inFlight = await within(`${what}: 8 calls in flight`, settle, Promise.allSettled(calls.map(({ request }) => b.attention(request))));
  const together = inFlight.map((r, n) => {
    if (r.status === 'rejected') throw new BehaviourFailure(`${what}: call ${n} (${calls[n]!.label}) in a burst rejected: ${String(r.reason)}`);
    return r.value;
  });
  const inTurn: AttentionResult[] = [];
  for (const { request } of calls) inTurn.push(await within(`${what}: a call in turn`, settle, b.attention(request)));
  calls.forEach(({ label, request }, n) => {
    const tol = toleranceOf(b, request);
    const m = resultMismatch(together[n]!, inTurn[n]!, tol);
    check(m === null, `${what}: call ${n} (${label}) in a burst differs from the same call in turn: ${m}`);
    expectReference(b, request, together[n]!, `${what}: call ${n} (${label}) in a burst`);
  });
}

/** The burst on a fresh backend (every call waits for the device to start) and on the started one. */
export async function checkBurst(ctx: BehaviourContext): Promise<void> {
  await ctx.fresh((b) => burst(ctx, b, `${b.name} (fresh)`));
  await burst(ctx, ctx.started, ctx.started.name);
}
