import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';

let gcFn: (() => void) | null | undefined;

/**
 * A full garbage collection, so that arrays of an earlier case do not count in this one's memory. Enabled at run
 * time (not with `node --expose-gc`: Worker threads reject that flag when they inherit process.execArgv).
 */
export function collectGarbage(): void {
  if (gcFn === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    } catch {
      gcFn = null;
    }
  }
  gcFn?.();
}

/**
 * Peak resident memory of this process while a measurement runs. A worker thread samples RSS every millisecond, so
 * the peak is seen even while the main thread is busy in a synchronous kernel; during the timed repetitions it
 * samples every COARSE_MS only (`coarse()`): on a machine with as many cores as the target's threads, a sampler waking
 * every millisecond takes time from them (a 2-thread decode step of ~1 ms ran measurably slower beside it). The
 * warm-up call, where a call's one-off allocations happen, is sampled finely.
 */
const COARSE_MS = 50;

// Shared slots: [0] window generation, [1] peak KiB, [2] stop, [3] sampling interval (ms).
const SAMPLER = `
const { workerData } = require('node:worker_threads');
const s = new Int32Array(workerData);
let gen = -1, peak = 0;
while (Atomics.load(s, 2) === 0) {
  const g = Atomics.load(s, 0);
  if (g !== gen) { gen = g; peak = 0; }
  const kib = Math.ceil(process.memoryUsage.rss() / 1024);
  if (kib > peak) { peak = kib; Atomics.store(s, 1, peak); }
  const ms = Atomics.load(s, 3);
  Atomics.wait(s, 3, ms, ms); // woken early when the interval changes or the sampler stops
}
`;

export class RssSampler {
  private readonly shared = new Int32Array(new SharedArrayBuffer(16));
  private readonly worker: Worker;

  constructor() {
    this.shared[3] = 1;
    this.worker = new Worker(SAMPLER, { eval: true, workerData: this.shared.buffer });
    this.worker.unref();
  }

  private interval(ms: number): void {
    Atomics.store(this.shared, 3, ms);
    Atomics.notify(this.shared, 3);
  }

  /** From now on, sample every COARSE_MS (the timed repetitions). */
  coarse(): void {
    this.interval(COARSE_MS);
  }

  /** Starts a new window, sampled every millisecond; returns the RSS now (bytes). */
  reset(): number {
    this.interval(1);
    const now = process.memoryUsage.rss();
    Atomics.store(this.shared, 1, Math.ceil(now / 1024));
    Atomics.add(this.shared, 0, 1);
    return now;
  }

  /** The highest RSS (bytes) seen since reset, including now. */
  peak(): number {
    return Math.max(Atomics.load(this.shared, 1) * 1024, process.memoryUsage.rss());
  }

  async dispose(): Promise<void> {
    Atomics.store(this.shared, 2, 1);
    Atomics.notify(this.shared, 3);
    await this.worker.terminate();
  }
}
