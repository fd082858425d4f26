// (g) tolerance() answers before probe() on a fresh backend: finite, non-negative atol, rtol and lseAtol.
import type { Tolerance } from '@sparse/core';
import { check } from './assert.js';
import { burstRequests } from './requests.js';
import type { BehaviourContext } from './types.js';

export function checkToleranceValues(t: Tolerance, what: string): void {
  check(t !== null && typeof t === 'object', `${what} returned ${String(t)}`);
  for (const key of ['atol', 'rtol', 'lseAtol'] as const) {
    const x = t[key];
    check(typeof x === 'number' && Number.isFinite(x) && x >= 0, `${what}.${key} = ${String(x)}, expected a finite number >= 0`);
  }
}

/** Before probe() (nothing started), with and without a request. */
export async function checkTolerance(ctx: BehaviourContext): Promise<void> {
  await ctx.fresh(async (b) => {
    checkToleranceValues(b.tolerance(), `${b.name}: tolerance() before probe()`);
    for (const { label, request } of burstRequests()) checkToleranceValues(b.tolerance(request), `${b.name}: tolerance(${label}) before probe()`);
  });
}
