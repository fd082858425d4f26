import { SparseAttentionError } from '@sparse/core';
import type { Outcome } from './runner.js';

/** A phase that did not finish on every thread: a wasm trap, an error, or a worker that died. */
export class KernelFailure extends Error {
  constructor(readonly outcomes: Outcome[]) {
    const bad = outcomes.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok);
    super(bad.map((o) => o.message).join('; '));
    this.name = 'KernelFailure';
  }
}

/**
 * Types a kernel failure: a dead worker is DEVICE_LOST (the backend then starts a new pool for the next call), a
 * trap or error INTERNAL (the instance that failed was rebuilt already). Anything else is left to the kit.
 */
export function translateFailure(e: unknown): SparseAttentionError | undefined {
  if (!(e instanceof KernelFailure)) return undefined;
  const bad = e.outcomes.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok);
  const death = bad.find((o) => o.kind === 'death');
  if (death)
    return new SparseAttentionError('DEVICE_LOST', `cpu-wasm: a worker thread died during the call (${death.message}); it is restarted for the next call`, {
      field: 'threads',
      cause: e,
    });
  return new SparseAttentionError('INTERNAL', `cpu-wasm: the kernel failed (${bad[0]!.message}); the instance was rebuilt for the next call`, {
    field: 'kernel',
    cause: e,
  });
}
