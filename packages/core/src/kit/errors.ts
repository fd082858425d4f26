import { isSparseAttentionError, SparseAttentionError } from '../errors.js';

/** The error of a call whose AbortSignal fired (before it started or while it ran). */
export function abortedError(): SparseAttentionError {
  return new SparseAttentionError('ABORTED', 'signal: the call was aborted by its AbortSignal', { field: 'signal' });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError();
}

/** What every backend answers once disposed (dispose is final: create a new backend to run again). */
export function disposedError(name: string): SparseAttentionError {
  return new SparseAttentionError('BACKEND_UNAVAILABLE', `${name}: this backend was disposed; create a new one to run again`, { field: 'backend' });
}

/** A failure to start the device, as BACKEND_UNAVAILABLE (a typed error keeps its code). */
export function unavailableError(name: string, e: unknown): SparseAttentionError {
  if (isSparseAttentionError(e)) return e;
  const message = (e as Error)?.message ?? String(e);
  return new SparseAttentionError('BACKEND_UNAVAILABLE', message.startsWith(`${name}:`) ? message : `${name}: ${message}`, { field: 'backend', cause: e });
}

/** Anything else a call throws: a bug of the backend, typed INTERNAL with the cause kept. */
export function internalError(name: string, e: unknown): SparseAttentionError {
  if (isSparseAttentionError(e)) return e;
  return new SparseAttentionError('INTERNAL', `${name}: unexpected error (${(e as Error)?.message ?? String(e)}); please report it`, {
    field: 'request',
    cause: e,
  });
}
