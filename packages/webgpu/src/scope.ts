import { SparseAttentionError } from '@sparse/core';

/**
 * Runs `body` inside validation, out-of-memory and internal error scopes; any captured error is thrown. `body` is
 * synchronous so that no other call's commands can land inside these scopes (the scope stack is per device).
 */
export async function scoped<T>(device: GPUDevice, body: () => T): Promise<T> {
  device.pushErrorScope('validation');
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('internal');
  let value: T | undefined;
  let thrown: unknown;
  let failed = false;
  try {
    value = body();
  } catch (e) {
    thrown = e;
    failed = true;
  }
  const pops = [device.popErrorScope(), device.popErrorScope(), device.popErrorScope()];
  const [internal, oom, validation] = await Promise.all(pops);
  if (failed) throw thrown;
  if (oom) throw new SparseAttentionError('RESOURCE_LIMIT', `webgpu: the device ran out of memory: ${oom.message}`, { field: 'device', cause: oom });
  const err = validation ?? internal;
  if (err)
    throw new SparseAttentionError('INTERNAL', `webgpu: ${validation ? 'validation' : 'internal'} error: ${err.message}`, { field: 'device', cause: err });
  return value as T;
}
