// (f) Device tensors: attentionResident agrees with attention() on the same requests (within the backend's
// tolerance), rejects an aborted signal with ABORTED and a disposed backend with BACKEND_UNAVAILABLE.
import type { AttentionRequest, Backend, ResidentRequest, ResidentResult } from '@sparse/core';
import { resultMismatch } from '../testing/compare.js';
import { BehaviourFailure, check, expectRejects, toleranceOf, within } from './assert.js';
import { accepted, burstRequests, smallRequest } from './requests.js';
import type { BehaviourContext, ResidentBackend, ResidentHooks } from './types.js';

function hooksOf<T>(ctx: BehaviourContext<T>): ResidentHooks<T> {
  const hooks = ctx.options.resident;
  if (!hooks) throw new BehaviourFailure('the resident part needs the `resident` hooks in the options');
  return hooks;
}

function residentOf<T>(b: Backend): ResidentBackend<T> {
  const r = b as Partial<ResidentBackend<T>>;
  check(typeof r.attentionResident === 'function', `${b.name}: has no attentionResident, yet the suite was given resident hooks`);
  return b as ResidentBackend<T>;
}

/** Uploads q, k and v of a request; `free` releases them (and any result tensors handed to it). */
async function upload<T>(hooks: ResidentHooks<T>, b: Backend, request: AttentionRequest) {
  const made: T[] = [];
  const up = async (t: AttentionRequest['q']) => {
    const x = await hooks.upload(t, b);
    made.push(x);
    return x;
  };
  const { q: _q, k: _k, v: _v, ...rest } = request;
  const resident: ResidentRequest<T> = { ...rest, q: await up(request.q), k: await up(request.k), v: await up(request.v) };
  const free = async (extra: (T | undefined)[] = [], quiet = false) => {
    for (const t of [...made, ...extra]) {
      if (t === undefined) continue;
      try {
        await hooks.release?.(t, b);
      } catch (e) {
        if (!quiet) throw e;
      }
    }
  };
  return { resident, free };
}

/** attentionResident on each burst request equals attention() on the same request, within tolerance. */
export async function checkResidentAgrees<T>(ctx: BehaviourContext<T>): Promise<void> {
  const hooks = hooksOf(ctx);
  const b = residentOf<T>(ctx.started);
  const settle = ctx.options.settleMs ?? 60_000;
  for (const { label, request } of accepted(b, burstRequests())) {
    const what = `${b.name}: attentionResident (${label})`;
    const host = await within(`${b.name}: attention (${label})`, settle, b.attention(request));
    const { resident, free } = await upload(hooks, b, request);
    let got: ResidentResult<T> | undefined;
    try {
      got = await within(what, settle, b.attentionResident(resident));
      check(got && got.out !== undefined, `${what}: returned no out`);
      check(!request.returnLse || got.lse !== undefined, `${what}: returnLse was asked and no lse came back`);
      const out = await hooks.download(got.out, b);
      const lse = got.lse === undefined ? undefined : await hooks.download(got.lse, b);
      const m = resultMismatch({ out, ...(lse ? { lse } : {}) }, host, toleranceOf(b, request));
      check(m === null, `${what} differs from attention(): ${m}`);
    } finally {
      await free([got?.out, got?.lse]);
    }
  }
}

/** An aborted signal: ABORTED field 'signal'. */
export async function checkResidentAborted<T>(ctx: BehaviourContext<T>): Promise<void> {
  const hooks = hooksOf(ctx);
  const b = residentOf<T>(ctx.started);
  const { resident, free } = await upload(hooks, b, smallRequest());
  try {
    await expectRejects(
      `${b.name}: attentionResident with an aborted signal`,
      () => b.attentionResident(resident, { signal: AbortSignal.abort() }),
      'ABORTED',
      'signal',
    );
  } finally {
    await free();
  }
}

/** After dispose(): BACKEND_UNAVAILABLE field 'backend' (tensors uploaded before dispose). */
export async function checkResidentDisposed<T>(ctx: BehaviourContext<T>): Promise<void> {
  const hooks = hooksOf(ctx);
  await ctx.fresh(async (fresh) => {
    const b = residentOf<T>(fresh);
    const { resident, free } = await upload(hooks, b, smallRequest());
    await b.dispose();
    try {
      await expectRejects(`${b.name}: attentionResident after dispose()`, () => b.attentionResident(resident), 'BACKEND_UNAVAILABLE', 'backend');
    } finally {
      await free([], true); // the device may be gone with the backend
    }
  });
}
