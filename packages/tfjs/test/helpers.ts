import { FLOAT32_TOLERANCE, makeRequest, type QkvShape, type Tolerance, withDuplicateKeys } from '@sparse/conformance/testing';
import type { AttentionRequest, AttentionResult, HostTensor, Pattern, ResidentRequest, ResidentResult } from '@sparse/core';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';

export { tf };

/** Silence tf.js's Node.js banner; the tests run on the pure-JS cpu and the wasm backends on purpose. */
tf.env().set('IS_TEST', true);

export const TF_BACKENDS = ['cpu', 'wasm'] as const;

export async function useBackend(name: string): Promise<void> {
  if (tf.getBackend() !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`tf.js backend ${name} failed to initialise`);
  }
  await tf.ready();
}

/** A case of the tests' lists: the sizes of a call (shared seeded data, 2 query heads by default), its pattern and options. */
export interface CaseSpec extends Omit<QkvShape, 'scale'> {
  name: string;
  pattern: Pattern | Pattern[];
  /** The attention scale (not a scale of the data). */
  scale?: number;
  queryOffset?: number;
  /** Make these keys copies of key 0 (exact top-k ties). */
  duplicateKeys?: number[];
}

/** The request of a case: makeRequest of @sparse/conformance/testing, then the case's duplicate keys. */
export function caseRequest(spec: CaseSpec): AttentionRequest {
  const { name: _, pattern, scale, queryOffset, duplicateKeys, Hq = 2, layout = 'bhsd', ...shape } = spec;
  const request = makeRequest({ ...shape, Hq, layout }, pattern, { scale, queryOffset });
  return duplicateKeys ? withDuplicateKeys(request, duplicateKeys) : request;
}

/** lse as these tests hold it: within FLOAT32_TOLERANCE.lseAtol, no relative term (for assertClose on plain values). */
export const LSE_F32: Tolerance = { ...FLOAT32_TOLERANCE, atol: FLOAT32_TOLERANCE.lseAtol, rtol: 0 };

/** q, k, v of a host request as tf.Tensors on the active tf.js backend (the caller disposes them). */
export function upload(request: AttentionRequest): { q: tf.Tensor; k: tf.Tensor; v: tf.Tensor } {
  const up = (x: HostTensor) => tf.tensor(x.data, [...x.shape]);
  return { q: up(request.q), k: up(request.k), v: up(request.v) };
}

/**
 * A host request run through attentionResident of `backend`: uploaded, run, read back, and every tensor it made
 * disposed (lse is read only when the request asks for it).
 */
export async function viaResident(
  backend: { attentionResident(r: ResidentRequest<tf.Tensor>): Promise<ResidentResult<tf.Tensor>> },
  request: AttentionRequest,
): Promise<AttentionResult> {
  const inputs = upload(request);
  try {
    const r = await backend.attentionResident({ ...request, ...inputs });
    try {
      const out = { data: (await r.out.data()) as Float32Array, shape: r.out.shape };
      return r.lse ? { out, lse: { data: (await r.lse.data()) as Float32Array, shape: r.lse.shape } } : { out };
    } finally {
      tf.dispose([r.out, ...(r.lse ? [r.lse] : [])]);
    }
  } finally {
    tf.dispose([inputs.q, inputs.k, inputs.v]);
  }
}
