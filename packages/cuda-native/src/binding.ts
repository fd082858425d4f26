/** The native addon's functions (native/addon.cc). Every argument is re-checked natively. */
export interface NativeProbe {
  available: boolean;
  reason?: string;
  device?: string;
  deviceCount: number;
  driverVersion: number;
  runtimeVersion: number;
  computeCapability?: string;
  totalMemory?: number;
}

export interface NativePlan {
  /** 0 = CUDA-core kernel, 1..3 = tensor-core kernel of head-dim tier 64 / 128 / 256. */
  kernel: number;
  blockQ: number;
  blockK: number;
  threads: number;
  sharedMemory: number;
}

export interface NativeBuildInfo {
  cudaRuntime: number;
  archs: string;
  napiVersion: number;
  maxHeadDim: number;
}

/** A tensor operand of attention(): a host Float32Array, or the id of a resident tensor (tensorAllocate). */
export type NativeOperand = Float32Array | number;

export interface NativeArgs<T extends NativeOperand = NativeOperand> {
  /** q, k, v: float32 on the host, or resident tensors of the storage precision. */
  q: T;
  k: T;
  v: T;
  /** out, lse: float32, on the host (filled after the call) or resident (written on the device). */
  out: T;
  lse: T | null;
  /** [B, Hq, Hkv, Sq, Sk, D, Dv] */
  dims: Int32Array;
  layout: 'bhsd' | 'bshd';
  scale: number;
  precision: number;
  device: number;
  kernel: number;
  blockQ: number;
  blockK: number;
  /** Concatenated masks: rowPtr of each distinct mask (numQBlocks + 1 entries, relative to its colIdx base). */
  rowPtr: Int32Array;
  colIdx: Int32Array;
  partialIdx: Int32Array;
  bits: Uint32Array;
  /** Hq × HEAD_WORDS: core's head table (packHeadTable; native/head_table.h is generated from its definition). */
  heads: Int32Array;
  /** Unit-normalised centroids of the cluster heads, concatenated. */
  centroids: Float64Array | null;
  warmup?: number;
  iterations?: number;
}

/** Arguments with every operand on the host (what packRequest makes). */
export type HostNativeArgs = NativeArgs<Float32Array>;

export interface NativeRunResult {
  iterationMs: number[];
  kernel: number;
}

export interface NativeBinding {
  probe(device?: number): Promise<NativeProbe>;
  plan(precision: number, headDim: number, headDimV: number, hasTopk: boolean): NativePlan;
  attention(args: NativeArgs): Promise<NativeRunResult>;
  buildInfo(): NativeBuildInfo;
  /** Zeroed device memory of `elements` values of `dtype` (precision code); resolves to its id. */
  tensorAllocate(device: number, dtype: number, elements: number): Promise<number>;
  /** Converts `data` to the tensor's dtype and copies it to values [offset, offset + data.length). */
  tensorWrite(id: number, data: Float32Array, offset: number): Promise<void>;
  /** Copies values [offset, offset + out.length) to `out` as float32. */
  tensorRead(id: number, offset: number, out: Float32Array): Promise<void>;
  /** target = source converted to target's dtype, on the device. */
  tensorCast(source: number, target: number): Promise<void>;
  /** Forgets the id (the memory goes when no call holds it); false when it was unknown. */
  tensorRelease(id: number): Promise<boolean>;
  /** Resident tensors not yet released. */
  tensorCount(): number;
}
