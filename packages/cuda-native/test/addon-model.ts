// A JavaScript model of the addon's binding (native/addon.cc) for testing the JS layers above it on machines
// without a GPU: resident tensors are Float32Arrays holding storage-rounded values, attention() runs the
// packed arguments through the kernel emulator (emulator.ts). It models the contract — ids, dtypes, sizes,
// rounding, errors with codes — not the GPU; the real addon is checked against the same scripts on a device.
import type { HostNativeArgs, NativeArgs, NativeBinding, NativeOperand, NativePlan } from '../src/binding.js';
import { emulate } from './emulator.js';
import { roundBf16, roundF16, roundTo } from './rounding.js';

export { roundBf16, roundF16 };

const round = roundTo;

interface ModelTensor {
  dtype: number;
  data: Float32Array;
}

const err = (code: string, field: string, message: string) => Object.assign(new Error(message), { name: 'SparseAttentionError', code, field });

export function modelBinding(options: { deviceBytes?: number } = {}): NativeBinding {
  const deviceBytes = options.deviceBytes ?? 2 ** 30;
  const tensors = new Map<number, ModelTensor>();
  let next = 1;
  const hold = (id: number, field: string) => {
    const t = tensors.get(id);
    if (!t) throw err('INVALID_ARGUMENT', field, `${field}: device tensor ${id} is unknown or was disposed`);
    return t;
  };
  // Settles on a later macrotask, like the addon's worker threads.
  const later = <T>(f: () => T) =>
    new Promise<T>((resolve, reject) =>
      setTimeout(() => {
        try {
          resolve(f());
        } catch (e) {
          reject(e);
        }
      }, 1),
    );

  return {
    probe: async () => ({ available: true, device: 'model', deviceCount: 1, driverVersion: 0, runtimeVersion: 0 }),
    // chooseKernel of native/dispatch.cc: float32 and top-k on the CUDA-core kernel, else the tensor-core tier.
    plan: (precision, headDim, headDimV, hasTopk): NativePlan => {
      if (precision === 0 || hasTopk) return { kernel: 0, blockQ: 32, blockK: 32, threads: 256, sharedMemory: 0 };
      const tier = Math.max(headDim, headDimV);
      const kernel = tier <= 64 ? 1 : tier <= 128 ? 2 : 3;
      return { kernel, blockQ: 64, blockK: kernel === 3 ? 32 : 64, threads: 128, sharedMemory: 0 };
    },
    buildInfo: () => ({ cudaRuntime: 0, archs: 'model', napiVersion: 8, maxHeadDim: 256 }),
    tensorCount: () => tensors.size,

    tensorAllocate(_device, dtype, elements) {
      return later(() => {
        if (elements * (dtype === 0 ? 4 : 2) > deviceBytes) throw err('RESOURCE_LIMIT', 'elements', 'elements: exceed the device memory');
        const id = next++;
        tensors.set(id, { dtype, data: new Float32Array(elements) });
        return id;
      });
    },
    tensorWrite(id, data, offset) {
      const t = hold(id, 'tensor');
      if (offset + data.length > t.data.length) throw err('INVALID_SHAPE', 'data', 'data: outside the tensor');
      return later(() => void t.data.set(round(t.dtype, data), offset));
    },
    tensorRead(id, offset, out) {
      const t = hold(id, 'tensor');
      if (offset + out.length > t.data.length) throw err('INVALID_SHAPE', 'out', 'out: outside the tensor');
      return later(() => void out.set(t.data.subarray(offset, offset + out.length)));
    },
    tensorCast(source, target) {
      const s = hold(source, 'source');
      const t = hold(target, 'target');
      if (s.data.length !== t.data.length) throw err('INVALID_SHAPE', 'target', 'target: size differs');
      return later(() => void t.data.set(round(t.dtype, s.data)));
    },
    tensorRelease: (id) => later(() => tensors.delete(id)),

    attention(args: NativeArgs) {
      // Like the addon: tensor ids and dtypes are checked (and held) at call time; host arrays are read on the
      // worker thread, after the call returned.
      const operand = (x: NativeOperand, field: string, dtype: number): (() => Float32Array) => {
        if (typeof x !== 'number') return () => round(dtype, x);
        const t = hold(x, field);
        if (t.dtype !== dtype) throw err('INVALID_ARGUMENT', field, `${field}: wrong dtype`);
        return () => t.data;
      };
      const q = operand(args.q, 'q', args.precision);
      const k = operand(args.k, 'k', args.precision);
      const v = operand(args.v, 'v', args.precision);
      const out = typeof args.out === 'number' ? hold(args.out, 'out').data : args.out;
      const lse = args.lse === null ? null : typeof args.lse === 'number' ? hold(args.lse, 'lse').data : args.lse;
      return later(() => {
        const host: HostNativeArgs = { ...args, q: q(), k: k(), v: v(), out, lse };
        const r = emulate(host);
        host.out.set(r.out);
        host.lse?.set(r.lse);
        return { iterationMs: [], kernel: 0 };
      });
    },
  };
}
