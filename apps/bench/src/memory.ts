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
 * Peak resident memory of this process while a measurement runs. A worker thread samples RSS every
 * millisecond or two, so the peak is seen even while the main thread is busy in a synchronous kernel.
 */
const SAMPLER = `
const { workerData } = require('node:worker_threads');
const s = new Int32Array(workerData);
let gen = -1, peak = 0;
const tick = () => {
  const g = Atomics.load(s, 0);
  if (g !== gen) { gen = g; peak = 0; }
  const kib = Math.ceil(process.memoryUsage.rss() / 1024);
  if (kib > peak) { peak = kib; Atomics.store(s, 1, peak); }
  if (Atomics.load(s, 2) === 0) setTimeout(tick, 1);
};
tick();
`;

export class RssSampler {
  private readonly shared = new Int32Array(new SharedArrayBuffer(12));
  private readonly worker: Worker;

  constructor() {
    this.worker = new Worker(SAMPLER, { eval: true, workerData: this.shared.buffer });
    this.worker.unref();
  }

  /** Starts a new window; returns the RSS now (bytes). */
  reset(): number {
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
    await this.worker.terminate();
  }
}
