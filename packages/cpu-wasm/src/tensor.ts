import { SparseAttentionError } from '@sparse/core';
import type { CpuWasmDevice } from './device.js';

/**
 * A tensor resident in a cpu-wasm backend's WebAssembly memory (`upload`, or the output of `attentionResident`):
 * float32, row-major like a host tensor of the same shape. It lives in the backend's resident region, which no
 * call's arena overwrites, until `release()` (or the backend's `dispose()`).
 */
export class WasmTensor {
  readonly shape: readonly number[];
  /** Number of values (the product of the shape). */
  readonly size: number;
  /** @internal the backend that made it (tensors are not shared between backends). */
  readonly owner: object;
  /** @internal the device whose memory holds it. */
  readonly device: CpuWasmDevice;
  /** @internal byte address of its first value. */
  readonly at: number;
  /** @internal whether a value is NaN or ±Infinity (null: not looked at yet; the values never change). */
  nonFinite: boolean | null = null;
  #released = false;
  readonly #free: (t: WasmTensor) => void;

  /** @internal made by the backend only. */
  constructor(owner: object, device: CpuWasmDevice, at: number, shape: readonly number[], free: (t: WasmTensor) => void) {
    this.owner = owner;
    this.device = device;
    this.at = at;
    this.shape = Object.freeze([...shape]);
    this.size = shape.reduce((a, b) => a * b, 1);
    this.#free = free;
  }

  /** Whether release() was called. */
  get released(): boolean {
    return this.#released;
  }

  /**
   * Frees its memory (once the calls already made with it are done). Later uses are INVALID_ARGUMENT errors;
   * releasing again does nothing.
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#free(this);
  }

  /** @internal a view of its values in the memory (valid until the memory grows). */
  view(): Float32Array {
    return new Float32Array(this.device.runner.memory.buffer, this.at, this.size);
  }

  toString(): string {
    return `WasmTensor(f32[${this.shape.join(', ')}]${this.#released ? ', released' : ''})`;
  }
}

export function isWasmTensor(x: unknown): x is WasmTensor {
  return x instanceof WasmTensor;
}

/** Checks that `t` is a live tensor of this backend; the error names `field`. */
export function checkOwnTensor(t: unknown, owner: object, field: string): WasmTensor {
  if (!isWasmTensor(t)) throw new SparseAttentionError('INVALID_ARGUMENT', `${field}: must be a WasmTensor made by this backend`, { field });
  checkOwned(t, owner, field, 'WasmTensor');
  return t;
}

/** The rules every resident object (tensor, KV cache) of this backend follows. */
export function checkOwned(t: { owner: object; device: CpuWasmDevice; released: boolean }, owner: object, field: string, what: string): void {
  if (t.owner !== owner)
    throw new SparseAttentionError(
      'INVALID_ARGUMENT',
      `${field}: the ${what} belongs to another cpu-wasm backend; resident data is not shared between backends`,
      {
        field,
      },
    );
  if (t.released) throw new SparseAttentionError('INVALID_ARGUMENT', `${field}: the ${what} was released`, { field });
  if (t.device.released)
    throw new SparseAttentionError(
      'DEVICE_LOST',
      `${field}: the ${what} was lost with the memory that held it (a worker thread died, and the backend started a new device); upload it again`,
      { field },
    );
}

/** Whether any of the values is NaN or ±Infinity. */
export function hasNonFinite(data: Float32Array): boolean {
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    if (x - x !== 0) return true;
  }
  return false;
}
