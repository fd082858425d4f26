import type { AttentionRequest } from '@sparse/core';
import { checkOutput } from '../check.js';
import { lastRows } from '../data.js';
import { denseMask } from '../dense-mask.js';
import type { TargetInfo, TargetResult } from '../types.js';
import { densePeerSetup, type Prepared, type RunContext, remember, type Target, timeRows } from './target.js';
import type { TfLike, TfTensor } from './tf-wasm.js';

/**
 * tf.js (wasm backend) dense attention: matMul, scale, additive mask, softmax, matMul. One 2-d problem per kv
 * head (its query heads stacked as rows): tf.js wasm sends batch-1, non-transposed matMuls to XNNPACK, several
 * times faster than its batched or transposeB paths (measured: ~8 vs ~1 GFLOP/s), so this is the fast way to
 * write it, and the fair peer.
 */
export class TfjsDenseTarget implements Target {
  constructor(
    readonly info: TargetInfo,
    private readonly tf: TfLike,
  ) {}

  async run(ctx: RunContext): Promise<TargetResult> {
    const { tf } = this;
    const c = ctx.case;
    const setup = densePeerSetup(ctx);
    if ('skip' in setup) return { status: 'skipped', reason: setup.skip };
    const { N, Sq, D, group, flopsPerRow, rows, pattern, scale } = setup;

    const prepare = (r: number): Prepared<Float32Array> => {
      const q = lastRows(ctx.inputs.q, r);
      const mask = denseMask(pattern, ctx.inputs, r, scale);
      const made: TfTensor[] = [];
      const keep = <T extends TfTensor>(t: T): T => {
        made.push(t);
        return t;
      };
      const rowsPerKv = group * r;
      const heads = Array.from({ length: c.headsKv }, (_, hk) => ({
        q: keep(tf.tensor2d(q.data.subarray(hk * rowsPerKv * D, (hk + 1) * rowsPerKv * D), [rowsPerKv, D])),
        k: keep(tf.tensor2d(ctx.inputs.k.data.subarray(hk * N * D, (hk + 1) * N * D), [N, D])),
        v: keep(tf.tensor2d(ctx.inputs.v.data.subarray(hk * N * D, (hk + 1) * N * D), [N, D])),
        mask: mask.heads === 1 && hk > 0 ? null : keep(tf.tensor2d(mask.data.subarray(hk * rowsPerKv * N, (hk + 1) * rowsPerKv * N), [rowsPerKv, N])),
      }));
      const shared = heads[0]!.mask!;
      return {
        call: async () => {
          const o = tf.tidy(() =>
            tf.concat(
              heads.map((h) => tf.matMul(tf.softmax(tf.add(tf.mul(tf.matMul(h.q, tf.transpose(h.k)), scale), h.mask ?? shared)), h.v)),
              0,
            ),
          );
          try {
            return await o.data();
          } finally {
            o.dispose();
          }
        },
        release: () => tf.dispose(made),
      };
    };

    let tfPeak: number | undefined;
    ctx.phase(rows < Sq ? `dense ${rows}/${Sq} rows` : 'dense');
    const { time, last, memory } = await timeRows(ctx, rows, prepare, ctx.settings.timing, {
      firstRun: async (run) => {
        let out: Float32Array | undefined;
        tfPeak = (
          await tf.profile(async () => {
            out = await run();
          })
        ).peakBytes;
        return out!;
      },
    });
    remember(ctx, 'dense', flopsPerRow * rows, time.medianMs);
    memory.tfPeakBytes = tfPeak;
    memory.tfNumBytes = tf.memory().numBytes;
    const request: AttentionRequest = { q: lastRows(ctx.inputs.q, rows), k: ctx.inputs.k, v: ctx.inputs.v, pattern };
    const check = checkOutput(request, last, ctx.settings.checkRows);
    const notes = pattern.kind === 'topk' || pattern.kind === 'cluster' ? ['content-based mask precomputed outside the timed region'] : [];
    return { status: 'ok', time, memory, check, notes };
  }

  async dispose(): Promise<void> {}
}
