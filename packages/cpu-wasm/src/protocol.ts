import type { Phase } from './instance.js';

/** Messages from the pool to a worker. */
export type ToWorker =
  | { type: 'init'; module: WebAssembly.Module; memory: WebAssembly.Memory; wid: number }
  | { type: 'run'; id: number; phase: Phase; ctx: number }
  /** Fault drill: the worker ends itself (process.exit in Node, close() in a browser). */
  | { type: 'die'; code: number };

/** Messages from a worker to the pool. */
export type FromWorker =
  /** The worker listens (sent first, so no message is posted before it can be received). */
  | { type: 'up' }
  | { type: 'ready' }
  | { type: 'done'; id: number; rc: number }
  | { type: 'error'; id: number; message: string; trap: boolean }
  /**
   * Browsers only: the worker is about to close itself. A Web Worker that calls close() gives its owner no event
   * (Node's worker_threads emit 'exit'), so it says so first; spawn.ts turns this into the worker's death.
   */
  | { type: 'exit'; code: number };
