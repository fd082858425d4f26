/**
 * The machine's memory bandwidth as Node sees it, and the effective GB/s of a run against it. A decode step reads
 * the window's K and V rows of every kv head once and does little arithmetic per byte, so its floor is set by
 * memory bandwidth, not by GFLOP/s.
 */

export interface BandwidthMeasurement {
  /** `dst.set(src)` of two Float32Arrays of `bytes` each (a memcpy): 2 · bytes (read + written) / best time, GB/s (1e9 B). */
  copyGBps: number;
  /** A summing loop over a Float32Array of `bytes` (four accumulators, one thread): bytes / best time, GB/s. */
  readGBps: number;
  /** The larger of the two: the limit the runs are compared with. */
  limitGBps: number;
  bytes: number;
  reps: number;
  method: string;
}

export const BANDWIDTH_METHOD =
  'one thread in the parent process before any target starts: the best of N runs of Float32Array.set (memcpy; GB/s = 2 × bytes / time, read + written) and of a four-accumulator sum over a Float32Array (bytes / time), both on arrays of 256 MiB (far beyond the caches); the limit is the larger figure, GB = 1e9 bytes';

function best(reps: number, fn: () => void): number {
  let t = Number.POSITIVE_INFINITY;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    t = Math.min(t, performance.now() - t0);
  }
  return t;
}

/** Sums a Float32Array with four independent accumulators (so the loop is not one long dependency chain). */
export function sum4(a: Float32Array): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n = a.length - (a.length % 4);
  for (let i = 0; i < n; i += 4) {
    s0 += a[i]!;
    s1 += a[i + 1]!;
    s2 += a[i + 2]!;
    s3 += a[i + 3]!;
  }
  for (let i = n; i < a.length; i++) s0 += a[i]!;
  return s0 + s1 + s2 + s3;
}

/** Measures copy and read bandwidth on arrays of `bytes` (default 256 MiB); about a second on this kind of machine. */
export function measureMemoryBandwidth(bytes = 256 * 2 ** 20, reps = 5): BandwidthMeasurement {
  const n = Math.floor(bytes / 4);
  const src = new Float32Array(n).fill(1);
  const dst = new Float32Array(n).fill(0);
  const copyMs = best(reps, () => dst.set(src));
  let sink = 0;
  const readMs = best(reps, () => {
    sink += sum4(src);
  });
  if (!(sink > 0)) throw new Error('bandwidth: the read loop was optimised away');
  const copyGBps = (2 * n * 4) / (copyMs * 1e6);
  const readGBps = (n * 4) / (readMs * 1e6);
  return {
    copyGBps,
    readGBps,
    limitGBps: Math.max(copyGBps, readGBps),
    bytes: n * 4,
    reps,
    method: BANDWIDTH_METHOD.replace('256 MiB', `${Math.round((n * 4) / 2 ** 20)} MiB`).replace('N runs', `${reps} runs`),
  };
}

export interface BandwidthFigures {
  /** Effective GB/s: bytes the pattern requires / time. */
  gbps: number;
  /** The time those bytes take at the limit (ms). */
  boundMs: number;
  /** time / boundMs: how many times the bandwidth-bound time the run took (1 = at the limit). */
  ratio: number;
}

/** Effective GB/s of a run moving `requiredBytes` in `ms`, and how it stands against `limitGBps`. */
export function bandwidthFigures(requiredBytes: number, ms: number, limitGBps?: number): BandwidthFigures | undefined {
  if (!(ms > 0) || !(requiredBytes > 0)) return undefined;
  const gbps = requiredBytes / (ms * 1e6);
  if (!(limitGBps && limitGBps > 0)) return { gbps, boundMs: Number.NaN, ratio: Number.NaN };
  const boundMs = requiredBytes / (limitGBps * 1e6);
  return { gbps, boundMs, ratio: ms / boundMs };
}
