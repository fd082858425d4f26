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

/** Why a backend cannot run a (piece of a) call, before anything runs. */
export interface Refusal {
  code: 'UNSUPPORTED' | 'RESOURCE_LIMIT';
  /** The input the refusal is about (`q.shape[3]`, `request`, …). */
  field: string;
  message: string;
}

/** A device's refusal as the error supports() and attention() give for it (nothing when there is none). */
export function throwRefusal(refusal: Refusal | null): void {
  if (refusal) throw new SparseAttentionError(refusal.code, refusal.message, { field: refusal.field });
}
