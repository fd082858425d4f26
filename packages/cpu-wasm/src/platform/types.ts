import type { KernelBuild } from '../instance.js';
import type { FromWorker, ToWorker } from '../protocol.js';

/** One worker thread, whatever the runtime. */
export interface WorkerHandle {
  post(message: ToWorker): void;
  terminate(): Promise<void>;
  /** Node: whether an idle worker keeps the process alive (no-ops in browsers). */
  ref(): void;
  unref(): void;
}

export interface WorkerEvents {
  message(message: FromWorker): void;
  /** The worker is gone (uncaught error, exit, terminate); called at most once. */
  death(reason: string): void;
}

/**
 * What differs between Node and browsers. Each entry file (index.ts for Node, browser.ts for browsers, chosen by the
 * `node` / `browser` export conditions) passes its own, so Node-only modules never reach a browser bundle.
 */
export interface Platform {
  /**
   * The kernel's bytes: kernel.wasm (shared memory, for the worker pool) or kernel-st.wasm, of the SIMD128 build
   * (dist/) or the relaxed-SIMD one (dist/relaxed/).
   */
  kernelBytes(shared: boolean, build: KernelBuild): Promise<{ bytes: ArrayBuffer | Uint8Array; source: string }>;
  spawnWorker(events: WorkerEvents): Promise<WorkerHandle>;
  defaultThreadCount(): Promise<number>;
}
