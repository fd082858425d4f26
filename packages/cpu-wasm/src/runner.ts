import type { Phase } from './instance.js';

/** How a phase ended on one thread. */
export type Outcome = { ok: true; rc: number } | { ok: false; kind: 'trap' | 'death' | 'error'; message: string };

/**
 * Executes the kernel's phases over one WebAssembly.Memory: a pool of workers over shared memory, or the calling
 * thread (the single-threaded fallback).
 */
export interface Runner {
  readonly threads: number;
  /** Whether the memory is shared with worker threads. */
  readonly shared: boolean;
  readonly memory: WebAssembly.Memory;
  /** The most bytes the memory can grow to. */
  readonly maxBytes: number;
  /** Start (or restart) whatever threads are missing. */
  ready(): Promise<void>;
  /** Runs one phase to completion on every thread; the outcome per thread. */
  run(phase: Phase, signal?: AbortSignal): Promise<Outcome[]>;
  /** Keep the process alive during a call (Node workers are unreferenced while idle). */
  hold(on: boolean): void;
  dispose(): Promise<void>;
}
