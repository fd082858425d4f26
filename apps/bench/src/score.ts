import { bandwidthFigures } from './bandwidth.js';
import type { CaseStats } from './stats.js';
import type { ScoredResult, TargetResult } from './types.js';

/**
 * GFLOP/s = 4·nnz·D / t; effective GB/s = required bytes / t and the ratio to the bandwidth-bound time (when the
 * machine's bandwidth `limitGBps` is known); speedup over the same target's dense kernel; η = speedup × density.
 */
export function score(target: string, r: TargetResult, stats: CaseStats, limitGBps?: number): ScoredResult {
  const out: ScoredResult = { target, ...r };
  if (r.status !== 'ok' || !r.time) return out;
  out.timeMs = r.time.fullMs;
  out.gflops = stats.flops / (r.time.fullMs * 1e6);
  const bw = bandwidthFigures(stats.requiredBytes, r.time.fullMs, limitGBps);
  if (bw) {
    out.gbps = bw.gbps;
    if (Number.isFinite(bw.ratio)) out.bandwidthRatio = bw.ratio;
  }
  if (r.dense) {
    out.speedup = r.dense.fullMs / r.time.fullMs;
    out.speedupBase = 'self';
    out.eta = out.speedup * stats.density;
  }
  return out;
}

/**
 * Speedups for targets whose "dense kernel" is another target of the same runtime: onnxruntime's
 * GroupQueryAttention against onnxruntime's dense attention (same threads).
 */
export function linkBaselines(results: ScoredResult[], stats: CaseStats): void {
  for (const r of results) {
    if (r.status !== 'ok' || r.timeMs === undefined || !r.target.startsWith('ort-gqa')) continue;
    const base = results.find((b) => b.target === r.target.replace('ort-gqa', 'ort-dense'));
    if (base?.status !== 'ok' || base.timeMs === undefined) continue;
    r.speedup = base.timeMs / r.timeMs;
    r.speedupBase = base.target;
    r.eta = r.speedup * stats.density;
  }
}
