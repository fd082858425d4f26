import { createRequire } from 'node:module';
import { dirname } from 'node:path';

/** The slice of the tf.js namespace the bench uses (typed loosely: tf.js is an optional peer here). */
export interface TfLike {
  version_core?: string;
  ready(): Promise<void>;
  setBackend(name: string): Promise<boolean>;
  getBackend(): string;
  tensor2d(values: Float32Array, shape: [number, number]): TfTensor;
  transpose(a: TfTensor): TfTensor;
  concat(ts: TfTensor[], axis: number): TfTensor;
  matMul(a: TfTensor, b: TfTensor, transposeA?: boolean, transposeB?: boolean): TfTensor;
  mul(a: TfTensor, b: TfTensor | number): TfTensor;
  add(a: TfTensor, b: TfTensor): TfTensor;
  softmax(a: TfTensor, dim?: number): TfTensor;
  tidy<T>(fn: () => T): T;
  dispose(x: unknown): void;
  memory(): { numTensors: number; numBytes: number };
  profile(fn: () => unknown): Promise<{ peakBytes: number; newBytes: number; newTensors: number }>;
}

export interface TfTensor {
  data(): Promise<Float32Array>;
  dispose(): void;
  shape: number[];
}

export interface TfWasm {
  tf: TfLike;
  threads: number;
  version: string;
  wasmDir: string;
}

/**
 * tf.js core with its wasm backend, the .wasm binaries taken from the installed @tensorflow/tfjs-backend-wasm
 * (setWasmPaths to its dist folder: nothing is fetched). tf.js uses its threaded build only where it detects
 * multithread support; in Node it does not, so it runs on one thread whatever `threads` asks (reported).
 */
export async function loadTfWasm(threads: number): Promise<TfWasm> {
  const tf = (await import('@tensorflow/tfjs-core')) as unknown as TfLike & { env(): { getAsync(k: string): Promise<unknown> } };
  const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as unknown as {
    setWasmPaths(prefix: string): void;
    setThreadsCount(n: number): void;
    getThreadsCount(): number;
    version_wasm: string;
  };
  const require = createRequire(import.meta.url);
  const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  if (tf.getBackend() !== 'wasm') {
    wasm.setWasmPaths(`${wasmDir}/`);
    wasm.setThreadsCount(threads);
    if (!(await tf.setBackend('wasm'))) throw new Error('tf.js wasm backend failed to initialise');
  }
  await tf.ready();
  const multithread = (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true;
  return {
    tf,
    threads: multithread ? wasm.getThreadsCount() : 1,
    version: `tfjs-core ${tf.version_core ?? '?'}, tfjs-backend-wasm ${wasm.version_wasm}`,
    wasmDir,
  };
}
