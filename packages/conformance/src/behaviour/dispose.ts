// (c) Dispose: final and idempotent. Calls made before dispose() finish with correct results; afterwards attention()
// rejects BACKEND_UNAVAILABLE (field 'backend'), supports() says "disposed", probe() is unavailable, and dispose()
// again resolves.
import type { Backend } from '@sparse/core';
import { BehaviourFailure, check, expectReference, expectRejects, within } from './assert.js';
import { accepted, burstRequests, smallRequest } from './requests.js';
import type { BehaviourContext } from './types.js';

/** What a disposed backend answers. */
export async function checkDisposed(b: Backend, what: string): Promise<void> {
  await expectRejects(`${what}: attention() after dispose()`, () => b.attention(smallRequest()), 'BACKEND_UNAVAILABLE', 'backend');
  let s: true | string;
  try {
    s = b.supports(smallRequest());
  } catch (e) {
    throw new BehaviourFailure(`${what}: supports() after dispose() threw: ${String(e)}`);
  }
  check(
    typeof s === 'string' && /disposed/i.test(s),
    `${what}: supports() after dispose() returned ${JSON.stringify(s)}, expected a message mentioning "disposed"`,
  );
  const probe = await b.probe();
  check(probe.available === false, `${what}: probe() after dispose() says available (${JSON.stringify(probe)})`);
  await within(`${what}: dispose() a second time`, 10_000, b.dispose());
}

/** Calls made before dispose() (without awaiting them) finish and are correct; then the disposed answers. */
async function disposeWhileRunning(ctx: BehaviourContext, b: Backend, what: string): Promise<void> {
  const calls = accepted(b, burstRequests()).slice(0, 4);
  const running = calls.map(({ request }) => b.attention(request));
  const disposing = b.dispose();
  const settle = ctx.options.settleMs ?? 60_000;
  const results = await within(`${what}: calls made before dispose()`, settle, Promise.allSettled(running));
  results.forEach((r, n) => {
    const label = `${what}: call ${n} (${calls[n]!.label}) made before dispose()`;
    if (r.status === 'rejected') throw new BehaviourFailure(`${label} rejected: ${String(r.reason)}`);
    expectReference(b, calls[n]!.request, r.value, label);
  });
  await within(`${what}: dispose()`, settle, disposing);
  await checkDisposed(b, what);
}

/** On a started backend (probed, one call made) and on a fresh one (dispose() before the device started). */
export async function checkDisposeWhileRunning(ctx: BehaviourContext): Promise<void> {
  await ctx.fresh(async (b) => {
    const probe = await b.probe();
    check(probe.available, `${b.name}: a second backend is unavailable (${probe.reason})`);
    await b.attention(smallRequest());
    await disposeWhileRunning(ctx, b, `${b.name} (started)`);
  });
  await ctx.fresh(async (b) => {
    await disposeWhileRunning(ctx, b, `${b.name} (fresh)`);
  });
}

/** A backend disposed before any call: every answer of a disposed backend, and no device is started for them. */
export async function checkDisposedFresh(ctx: BehaviourContext): Promise<void> {
  await ctx.fresh(async (b) => {
    await within(`${b.name}: dispose() on a fresh backend`, 10_000, b.dispose());
    await checkDisposed(b, `${b.name} (disposed before any call)`);
  });
}
