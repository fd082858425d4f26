// (h) lastRun(): null before the first call; afterwards backend (its name), device (a string), pieces (>= 1) and
// ms (>= 0). A call whose heads are all dilated with dilation 3 runs as residue groups when the backend partitions
// dilation (every backend's default): pieces >= 2.
import type { Backend, RunInfo } from '@sparse/core';
import { check, expectReference } from './assert.js';
import { dilatedRequest, smallRequest } from './requests.js';
import type { BehaviourContext } from './types.js';

export function checkRunInfo(b: Backend, info: RunInfo | null, what: string): RunInfo {
  check(info !== null && typeof info === 'object', `${what}: lastRun() is ${String(info)} after a call`);
  check(info.backend === b.name, `${what}: lastRun().backend = ${JSON.stringify(info.backend)}, expected the backend's name ${JSON.stringify(b.name)}`);
  check(typeof info.device === 'string' && info.device.length > 0, `${what}: lastRun().device = ${JSON.stringify(info.device)}, expected the device in words`);
  check(Number.isInteger(info.pieces) && info.pieces >= 1, `${what}: lastRun().pieces = ${String(info.pieces)}, expected an integer >= 1`);
  check(typeof info.ms === 'number' && Number.isFinite(info.ms) && info.ms >= 0, `${what}: lastRun().ms = ${String(info.ms)}, expected a number >= 0`);
  return info;
}

/** null on a fresh backend (before and after probe()); filled in after a call. */
export async function checkLastRun(ctx: BehaviourContext): Promise<void> {
  await ctx.fresh(async (b) => {
    check(b.lastRun() === null, `${b.name}: lastRun() before any call is ${JSON.stringify(b.lastRun())}, expected null`);
    await b.probe();
    check(b.lastRun() === null, `${b.name}: lastRun() after probe() and before any call is ${JSON.stringify(b.lastRun())}, expected null`);
    const request = smallRequest();
    expectReference(b, request, await b.attention(request), `${b.name}: a call`);
    checkRunInfo(b, b.lastRun(), `${b.name}: after a call`);
  });
}

/** The dilated call on a backend created with `{ partitionDilation: true }`: pieces >= 2, and the right result. */
export async function checkDilatedPieces(ctx: BehaviourContext): Promise<void> {
  await ctx.fresh(
    async (b) => {
      const request = dilatedRequest();
      expectReference(b, request, await b.attention(request), `${b.name}: a dilated call`);
      const info = checkRunInfo(b, b.lastRun(), `${b.name}: after a dilated call`);
      check(info.pieces >= 2, `${b.name}: a call whose heads are all dilated (dilation 3) ran as ${info.pieces} piece(s), expected its residue groups (>= 2)`);
    },
    { partitionDilation: true },
  );
}
