// (e) The inputs are the caller's again when attention() returns: q, k, v data, the pattern objects and the request
// mutated right after the call (before awaiting it) do not change its result, on a fresh backend (its first call)
// and on a started one.
import type { AttentionRequest, AttentionResult, Backend, Pattern } from '@sparse/core';
import { cloneRequest, makeRequest } from '@sparse/core/reference';
import { BehaviourFailure, expectReference, within } from './assert.js';
import { accepted } from './requests.js';
import type { BehaviourContext } from './types.js';

/** Calls whose inputs the check scribbles over: one pattern object, a per-head array, a dilated (partitioned) call. */
function ownedCalls(): { label: string; request: AttentionRequest }[] {
  return [
    { label: 'local, one pattern', request: makeRequest({ Hq: 2, Sq: 40, D: 8, seed: 101 }, { kind: 'local', left: 3, right: 3 }, { scale: 0.4 }) },
    {
      label: 'per-head array, GQA bshd',
      request: makeRequest({ B: 2, Hq: 4, Hkv: 2, Sq: 24, Sk: 30, D: 8, layout: 'bshd', seed: 111 }, [
        { kind: 'causal' },
        { kind: 'local', left: 2, right: 0 },
        { kind: 'dense' },
        { kind: 'dilated', dilation: 2, left: 3, right: 1 },
      ]),
    },
    { label: 'dilated 3 (every head)', request: makeRequest({ Hq: 2, Sq: 45, D: 8, seed: 121 }, { kind: 'dilated', dilation: 3, left: 2, right: 2 }) },
  ];
}

/** Overwrites everything the caller owns: tensor data (NaN), shapes, pattern fields and array entries, request fields. */
function scribble(r: AttentionRequest): void {
  r.q.data.fill(Number.NaN);
  r.k.data.fill(Number.NaN);
  r.v.data.fill(1e6);
  (r.q.shape as number[]).reverse();
  const wreck = (p: Pattern) => {
    const o = p as unknown as Record<string, unknown>;
    for (const key of Object.keys(o)) delete o[key];
    o.kind = 'dense';
  };
  if (Array.isArray(r.pattern)) {
    const arr = r.pattern as Pattern[];
    arr.forEach(wreck);
    arr.length = 1;
  } else wreck(r.pattern as Pattern);
  r.scale = 1e3;
  r.queryOffset = -5;
  r.returnLse = !r.returnLse;
}

async function mutateAfterCall(ctx: BehaviourContext, b: Backend, what: string): Promise<void> {
  const calls = accepted(b, ownedCalls());
  const kept = calls.map(({ request }) => cloneRequest(request));
  const running: Promise<AttentionResult>[] = [];
  for (const { request } of calls) {
    running.push(b.attention(request));
    scribble(request); // right after the call returned, before awaiting it
  }
  const settled = await within(`${what}: calls with mutated inputs`, ctx.options.settleMs ?? 60_000, Promise.allSettled(running));
  settled.forEach((s, n) => {
    const label = `${what}: ${calls[n]!.label}, inputs mutated right after attention() returned`;
    if (s.status === 'rejected') throw new BehaviourFailure(`${label}: rejected: ${String(s.reason)}`);
    expectReference(b, kept[n]!, s.value, label);
  });
}

/** First calls of a fresh backend, then calls on the started one. */
export async function checkOwnership(ctx: BehaviourContext): Promise<void> {
  await ctx.fresh((b) => mutateAfterCall(ctx, b, `${b.name} (fresh)`));
  await mutateAfterCall(ctx, ctx.started, ctx.started.name);
}
