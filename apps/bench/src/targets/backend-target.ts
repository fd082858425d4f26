import { type AttentionRequest, type AttentionResult, type Backend, dense } from '@sparse/core';
import { checkOutput } from '../check.js';
import { inputsKey, lastRows } from '../data.js';
import type { MeasureOptions } from '../timing.js';
import type { RowTiming, Status, TargetInfo, TargetResult } from '../types.js';
import { buildPattern, isDecode, seqQ } from '../workloads.js';
import { decodeCall, perCall } from './calls.js';
import { denseRows, errorText, estimateMs, extrapolate, type RunContext, remember, skipReason, type Target, timeRows } from './target.js';
import type { TfLike } from './tf-wasm.js';

/** Query rows of the calibration run that estimates a first, big run. */
const CALIBRATION_ROWS = 256;
/** Work above which a first run is calibrated (by default). */
const CALIBRATE_ABOVE_FLOPS = 1e9;

/**
 * A library backend (or the plain-JS peer, which has the same interface): the workload at full size, then the
 * same backend's dense kernel (pattern dense) on the last rows, extrapolated to N when sliced.
 */
export class BackendTarget implements Target {
  /** The dense baseline depends only on the shape: measured once per shape, shared by every pattern. */
  private readonly denseCache = new Map<string, RowTiming | { status: Status; reason: string }>();

  constructor(
    readonly info: TargetInfo,
    private readonly backend: Backend,
    private readonly tf?: TfLike,
    /**
     * A first run of a pattern on more than this much work (4 · nnz · D) is preceded by a calibration on a slice
     * of rows. 0 for slow targets (a software adapter), whose top-k / cluster passes also cost far more than nnz says.
     */
    private readonly calibrateAboveFlops = CALIBRATE_ABOVE_FLOPS,
    /** 'kv-cache': decode workloads only, with the kv cache resident in the backend (see calls.ts). */
    private readonly variant?: 'kv-cache',
  ) {}

  async run(ctx: RunContext): Promise<TargetResult> {
    const c = ctx.case;
    const { settings: s, inputs } = ctx;
    if (this.variant && !isDecode(c)) return { status: 'n/a', reason: `the ${this.variant} variant runs decode workloads only` };
    const request: AttentionRequest = { ...inputs, pattern: buildPattern(c) };
    const ok = this.backend.supports(request);
    if (ok !== true) return { status: 'unsupported', reason: ok };
    const work = 4 * ctx.stats.candidateNnz * c.headDim;
    if (this.info.name === 'reference' && work > s.referenceMaxFlops)
      return { status: 'skipped', reason: `the float64 reference runs only up to ${s.referenceMaxFlops / 1e9} GFLOP per run (a yardstick, not a contender)` };
    // Decode steps cost what the cache copy costs, not what their flops say: their own throughput history.
    const key = `${isDecode(c) ? 'decode' : 'sparse'}:${c.pattern}`;
    let est = ctx.history.has(key) ? estimateMs(ctx, key, ctx.stats.flops) : undefined;
    if (est === undefined && seqQ(c) > 4 * CALIBRATION_ROWS && ctx.stats.flops > this.calibrateAboveFlops) {
      // First time this target sees the pattern on a big problem: time the last 2r and r rows alone (every key)
      // and extend the fixed + per-row fit to N, to skip a run that would take far longer than --max-run.
      ctx.phase('calibrate');
      const timeRowsOnce = async (rows: number) => {
        const sample: AttentionRequest = { ...request, q: lastRows(inputs.q, rows) };
        await this.backend.attention(sample);
        const t0 = performance.now();
        await this.backend.attention(sample);
        return performance.now() - t0;
      };
      const big = await timeRowsOnce(2 * CALIBRATION_ROWS);
      const small = await timeRowsOnce(CALIBRATION_ROWS);
      const t = { medianMs: big, minMs: big, maxMs: big, reps: 1, samplesMs: [big] };
      est = extrapolate(t, 2 * CALIBRATION_ROWS, seqQ(c), { rows: CALIBRATION_ROWS, ms: small }).fullMs;
      remember(ctx, key, ctx.stats.flops, est);
    }
    const skip = skipReason(est, s, 'sparse run');
    if (skip) return { status: 'skipped', reason: skip };

    ctx.phase('sparse');
    let tfPeak: number | undefined;
    const options: MeasureOptions<AttentionResult> = {};
    if (this.tf) {
      const tf = this.tf;
      options.firstRun = async (run) => {
        let out: AttentionResult | undefined;
        tfPeak = (
          await tf.profile(async () => {
            out = await run();
          })
        ).peakBytes;
        return out!;
      };
    }
    const strategy = isDecode(c) ? decodeCall(this.info.name, this.backend, this.variant) : perCall;
    const { time, last, memory } = await timeRows(ctx, seqQ(c), () => strategy.prepare(this.backend, request, ctx), s.timing, options);
    remember(ctx, key, ctx.stats.flops, time.medianMs);
    if (this.tf) {
      memory.tfPeakBytes = tfPeak;
      memory.tfNumBytes = this.tf.memory().numBytes;
    }
    ctx.phase('check');
    const check = checkOutput(request, last.out.data, s.checkRows);
    const result: TargetResult = { status: 'ok', time, memory, check };
    if (isDecode(c)) result.notes = [strategy.note];

    if (this.variant) {
      // The same backend's dense kernel is measured under its plain target (cpu-wasm@Nt).
      result.denseStatus = { status: 'n/a', reason: `measured under ${this.info.name}@${this.info.threads}t` };
      return result;
    }
    const shape = inputsKey(c);
    let d = this.denseCache.get(shape);
    if (!d) {
      ctx.phase('dense');
      d = await this.denseBaseline(ctx);
      this.denseCache.set(shape, d);
    }
    if ('status' in d) result.denseStatus = d;
    else result.dense = d;
    return result;
  }

  private async denseBaseline(ctx: RunContext): Promise<RowTiming | { status: Status; reason: string }> {
    const c = ctx.case;
    const N = c.seq;
    const flopsPerRow = 4 * c.headsQ * N * c.headDim;
    const budget = this.info.name === 'reference' ? Math.min(ctx.settings.denseBudgetFlops, ctx.settings.referenceMaxFlops) : undefined;
    const rows = denseRows(ctx, 'dense', flopsPerRow, 0, budget);
    const probe: AttentionRequest = { q: lastRows(ctx.inputs.q, rows), k: ctx.inputs.k, v: ctx.inputs.v, pattern: dense() };
    const ok = this.backend.supports(probe);
    if (ok !== true) return { status: 'unsupported', reason: `dense kernel: ${ok}` };
    const skip = skipReason(estimateMs(ctx, 'dense', flopsPerRow * rows), ctx.settings, `dense kernel on ${rows} rows`);
    if (skip) return { status: 'skipped', reason: skip };
    try {
      const { time } = await timeRows(
        ctx,
        rows,
        (r) => {
          const request = r === rows ? probe : { ...probe, q: lastRows(ctx.inputs.q, r) };
          return { call: () => this.backend.attention(request) };
        },
        ctx.settings.denseTiming,
      );
      remember(ctx, 'dense', flopsPerRow * rows, time.medianMs);
      return time;
    } catch (e) {
      return { status: 'failed', reason: `dense kernel: ${errorText(e)}` };
    }
  }

  async dispose(): Promise<void> {
    await this.backend.dispose();
  }
}
