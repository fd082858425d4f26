import type { AttentionRequest, AttentionResult, Backend, SparseAttentionError, SparseErrorCode } from '@sparse/core';
import { referenceMismatch, rejection } from '../testing/compare.js';

/** A behaviour the backend got wrong, in words. */
export class BehaviourFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BehaviourFailure';
  }
}

export function check(ok: unknown, message: string): asserts ok {
  if (!ok) throw new BehaviourFailure(message);
}

/** The error `call` rejects with, checked for code and field; fails when it throws synchronously or resolves. */
export async function expectRejects(what: string, call: () => Promise<unknown>, code: SparseErrorCode, field: string): Promise<SparseAttentionError> {
  let e: SparseAttentionError;
  try {
    e = await rejection(call);
  } catch (x) {
    throw new BehaviourFailure(`${what}: ${(x as Error).message} (expected ${code} field '${field}')`);
  }
  check(e.code === code && e.field === field, `${what}: rejected ${e.code} field '${e.field}' (${e.message}), expected ${code} field '${field}'`);
  return e;
}

/** The promise's outcome, or a failure when it has not settled within `ms` (a hung call). */
export async function within<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BehaviourFailure(`${what}: did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The backend's tolerance for a request, checked to be usable. */
export function toleranceOf(backend: Backend, request?: Parameters<Backend['tolerance']>[0]) {
  const t = backend.tolerance(request);
  check(t && typeof t === 'object', `${backend.name}: tolerance() returned ${String(t)}`);
  return t;
}

/** The result equals core's float64 reference within the backend's tolerance for the request. */
export function expectReference(backend: Backend, request: AttentionRequest, result: AttentionResult, what: string): void {
  const m = referenceMismatch(request, result, toleranceOf(backend, request));
  check(m === null, `${what}: ${m}`);
}
