import { isSparseAttentionError, type SparseAttentionError } from '@sparse/core';
import { type DeviceContext, isLost, lostDuringCall } from './device.js';

/** A failure during a call on a device that was lost is DEVICE_LOST; anything else is typed by the kit. */
export async function translate(e: unknown, ctx: DeviceContext): Promise<SparseAttentionError | undefined> {
  if (isSparseAttentionError(e) && e.code === 'DEVICE_LOST') return e;
  return (await isLost(ctx)) ? lostDuringCall(ctx, e) : undefined;
}
