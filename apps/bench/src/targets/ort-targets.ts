import type { AttentionRequest } from '@sparse/core';
import { checkOutput } from '../check.js';
import { firstRows, fromBshd, type Inputs, lastRows, toBshd } from '../data.js';
import { denseMask } from '../dense-mask.js';
import { denseMaskAttentionModel, gqaDecodeModel, gqaModel } from '../onnx/attention-models.js';
import type { TimingSettings } from '../timing.js';
import type { TargetInfo, TargetResult } from '../types.js';
import { buildPattern, isDecode, seqQ } from '../workloads.js';
import { densePeerSetup, denseRows, estimateMs, type Prepared, type RunContext, remember, skipReason, type Target, timeRows } from './target.js';

type Ort = typeof import('onnxruntime-node');
type OrtTensor = InstanceType<Ort['Tensor']>;
type OrtOutputs = Record<string, OrtTensor>;

export async function loadOrt(): Promise<Ort> {
  return (await import('onnxruntime-node')) as Ort;
}

export function ortVersion(ort: Ort): string {
  return `onnxruntime-node ${ort.env.versions?.node ?? '?'}`;
}

function sessionOptions(threads: number) {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential' as const,
    graphOptimizationLevel: 'all' as const,
    logSeverityLevel: 3 as const,
  };
}

/** A fresh onnxruntime session needs a few runs before its arena and thread pool settle (measured: 2–3× slower). */
function ortTiming(t: TimingSettings): TimingSettings {
  return { ...t, warmup: t.warmup + 2 };
}

function notesFor(kind: string): string[] {
  return kind === 'topk' || kind === 'cluster' ? ['content-based mask precomputed outside the timed region'] : [];
}

/** onnxruntime-node (native CPU EP): dense attention with an additive mask, a graph built in code. */
export class OrtDenseTarget implements Target {
  constructor(
    readonly info: TargetInfo,
    private readonly ort: Ort,
    private readonly threads: number,
  ) {}

  async run(ctx: RunContext): Promise<TargetResult> {
    const { ort } = this;
    const c = ctx.case;
    const setup = densePeerSetup(ctx);
    if ('skip' in setup) return { status: 'skipped', reason: setup.skip };
    const { N, Sq, D, group, flopsPerRow, rows, pattern, scale } = setup;
    const prepare = async (r: number): Promise<Prepared<OrtOutputs>> => {
      const q = lastRows(ctx.inputs.q, r);
      const mask = denseMask(pattern, ctx.inputs, r, scale);
      const model = denseMaskAttentionModel({ headsKv: c.headsKv, rows: group * r, seqK: N, headDim: D, headDimV: D, maskHeads: mask.heads, scale });
      const session = await ort.InferenceSession.create(model, sessionOptions(this.threads));
      const feeds = {
        q: new ort.Tensor('float32', q.data, [1, c.headsKv, group * r, D]),
        k: new ort.Tensor('float32', ctx.inputs.k.data, [1, c.headsKv, N, D]),
        v: new ort.Tensor('float32', ctx.inputs.v.data, [1, c.headsKv, N, D]),
        mask: new ort.Tensor('float32', mask.data, [mask.heads, group * r, N]),
      };
      return { call: () => session.run(feeds) as Promise<OrtOutputs>, release: () => session.release() };
    };
    ctx.phase(rows < Sq ? `dense ${rows}/${Sq} rows` : 'dense');
    const { time, last, memory } = await timeRows(ctx, rows, prepare, ortTiming(ctx.settings.timing));
    remember(ctx, 'dense', flopsPerRow * rows, time.medianMs);
    const request: AttentionRequest = { q: lastRows(ctx.inputs.q, rows), k: ctx.inputs.k, v: ctx.inputs.v, pattern };
    const check = checkOutput(request, last.out!.data as Float32Array, ctx.settings.checkRows);
    return { status: 'ok', time, memory, check, notes: notesFor(c.pattern) };
  }

  async dispose(): Promise<void> {}
}

/** A GroupQueryAttention decode step in the shared-buffer mode, ready to run (see gqaDecodeModel). */
export interface GqaDecodeStep {
  /** The kv cache buffers [1, Hkv, capacity, D] (BNSH): past_key / past_value and, aliased, present_key / present_value. */
  keyCache: Float32Array;
  valueCache: Float32Array;
  capacity: number;
  /** One decode step: the output [1, Sq, Hq·D] (BSNH flattened). */
  run(): Promise<Float32Array>;
  release(): Promise<void>;
}

/** A cache buffer of `capacity` positions per head holding the Sk rows of `t` (bhsd = BNSH); the rest zero. */
function cacheBuffer(t: Inputs['k'], capacity: number): Float32Array {
  const [, H, S, D] = t.shape as [number, number, number, number];
  if (capacity === S) return t.data.slice();
  const out = new Float32Array(H * capacity * D);
  for (let h = 0; h < H; h++) out.set(t.data.subarray(h * S * D, (h + 1) * S * D), h * capacity * D);
  return out;
}

/**
 * A session and feeds for one decode step of `inputs` (q: the Sq new tokens [1, Hq, Sq, D]; k, v: all Sk positions,
 * the last Sq of them the new tokens' own) the way onnxruntime users run decode at its best: the shared
 * past/present buffer mode, the cache buffers (copies of k and v, `capacity` positions, default Sk) passed both as
 * past_key / past_value and as the preallocated present_key / present_value outputs. Each step writes the new
 * tokens' K and V (the values already there) at positions Sk − Sq … Sk − 1 of the buffers.
 */
export async function gqaDecodeStep(
  ort: Ort,
  inputs: Inputs,
  o: { window: number; scale: number; threads: number; capacity?: number },
): Promise<GqaDecodeStep> {
  const [, Hq, Sq, D] = inputs.q.shape as [number, number, number, number];
  const [, Hkv, Sk] = inputs.k.shape as [number, number, number, number];
  const capacity = o.capacity ?? Sk;
  if (capacity < Sk) throw new RangeError(`gqaDecodeStep: capacity ${capacity} < Sk ${Sk}`);
  const model = gqaDecodeModel({ headsQ: Hq, headsKv: Hkv, headDim: D, rows: Sq, capacity, localWindowSize: o.window, scale: o.scale });
  const session = await ort.InferenceSession.create(model, sessionOptions(o.threads));
  const keyCache = cacheBuffer(inputs.k, capacity);
  const valueCache = cacheBuffer(inputs.v, capacity);
  const pastKey = new ort.Tensor('float32', keyCache, [1, Hkv, capacity, D]);
  const pastValue = new ort.Tensor('float32', valueCache, [1, Hkv, capacity, D]);
  const feeds: Record<string, OrtTensor> = {
    query: new ort.Tensor('float32', toBshd(inputs.q), [1, Sq, Hq * D]),
    key: new ort.Tensor('float32', toBshd(lastRows(inputs.k, Sq)), [1, Sq, Hkv * D]),
    value: new ort.Tensor('float32', toBshd(lastRows(inputs.v, Sq)), [1, Sq, Hkv * D]),
    past_key: pastKey,
    past_value: pastValue,
    seqlens_k: new ort.Tensor('int32', Int32Array.from([Sk - 1]), [1]),
    total_sequence_length: new ort.Tensor('int32', Int32Array.from([Sk]), []),
  };
  // present_key / present_value are the past tensors themselves: onnxruntime sees one buffer (shared mode).
  const fetches = { output: null, present_key: pastKey, present_value: pastValue };
  return {
    keyCache,
    valueCache,
    capacity,
    run: async () => ((await session.run(feeds, fetches)) as OrtOutputs).output!.data as Float32Array,
    release: () => session.release(),
  };
}

/** What the ORT decode results say about the configuration. */
export function gqaDecodeNotes(window: number, capacity: number): string[] {
  return [
    `past_present_share_buffer: past_key/past_value = the cache buffers (capacity ${capacity}), present outputs alias them; local_window_size=${window}`,
    'onnxruntime-node hands fetched outputs back as new arrays: every step copies both cache buffers once (included, as its users pay it)',
  ];
}

/**
 * onnxruntime-node's contrib GroupQueryAttention (com.microsoft) with local_window_size: causal sliding windows
 * only. Decode cases run as one step in the shared past/present buffer mode (gqaDecodeStep). A window of w keys including self is local_window_size = w on onnxruntime >= 1.23. When the whole
 * prompt would not fit the budgets, the last rows run as new tokens after a kv cache (past_key/past_value) of
 * the earlier ones, and the time is extrapolated to N.
 */
export class OrtGqaTarget implements Target {
  constructor(
    readonly info: TargetInfo,
    private readonly ort: Ort,
    private readonly threads: number,
  ) {}

  async run(ctx: RunContext): Promise<TargetResult> {
    const c = ctx.case;
    if (c.pattern !== 'causal-sliding') return { status: 'n/a', reason: "GroupQueryAttention's local_window_size only expresses a causal sliding window" };
    if (isDecode(c)) return this.runDecode(ctx);
    const { ort } = this;
    const N = c.seq;
    const D = c.headDim;
    const flopsPerRow = 4 * c.headsQ * N * D;
    // onnxruntime's CPU kernel holds an Hq × rows × N probability buffer.
    const rows = denseRows(ctx, 'gqa', flopsPerRow, 4 * c.headsQ * N, undefined, true);
    const skip = skipReason(estimateMs(ctx, 'gqa', flopsPerRow * rows), ctx.settings, `GQA on ${rows} rows`);
    if (skip) return { status: 'skipped', reason: skip };
    const scale = 1 / Math.sqrt(D);
    const prepare = async (r: number): Promise<Prepared<OrtOutputs>> => {
      const past = N - r;
      const model = gqaModel({ headsQ: c.headsQ, headsKv: c.headsKv, headDim: D, rows: r, past, localWindowSize: c.window, scale });
      const session = await ort.InferenceSession.create(model, sessionOptions(this.threads));
      const feeds: Record<string, OrtTensor> = {
        query: new ort.Tensor('float32', toBshd(lastRows(ctx.inputs.q, r)), [1, r, c.headsQ * D]),
        key: new ort.Tensor('float32', toBshd(lastRows(ctx.inputs.k, r)), [1, r, c.headsKv * D]),
        value: new ort.Tensor('float32', toBshd(lastRows(ctx.inputs.v, r)), [1, r, c.headsKv * D]),
        seqlens_k: new ort.Tensor('int32', Int32Array.from([N - 1]), [1]),
        total_sequence_length: new ort.Tensor('int32', Int32Array.from([N]), []),
      };
      if (past > 0) {
        feeds.past_key = new ort.Tensor('float32', firstRows(ctx.inputs.k, past).data, [1, c.headsKv, past, D]);
        feeds.past_value = new ort.Tensor('float32', firstRows(ctx.inputs.v, past).data, [1, c.headsKv, past, D]);
      }
      return { call: () => session.run(feeds) as Promise<OrtOutputs>, release: () => session.release() };
    };
    ctx.phase(rows < N ? `gqa ${rows}/${N} rows` : 'gqa');
    const { time, last, memory } = await timeRows(ctx, rows, prepare, ortTiming(ctx.settings.timing));
    remember(ctx, 'gqa', flopsPerRow * rows, time.medianMs);
    const out = fromBshd(last.output!.data as Float32Array, 1, rows, c.headsQ, D);
    const request: AttentionRequest = { q: lastRows(ctx.inputs.q, rows), k: ctx.inputs.k, v: ctx.inputs.v, pattern: buildPattern(c) };
    const check = checkOutput(request, out, ctx.settings.checkRows);
    const notes = [`local_window_size=${c.window}`];
    if (rows < N) notes.push(`last ${rows} (and ${rows / 2}) rows as new tokens after a kv cache of the others`);
    return { status: 'ok', time, memory, check, notes };
  }

  /** One decode step in the shared-buffer mode, in full (the cache is Sk positions: it fits wherever the inputs do). */
  private async runDecode(ctx: RunContext): Promise<TargetResult> {
    const c = ctx.case;
    const Sq = seqQ(c);
    const scale = 1 / Math.sqrt(c.headDim);
    let capacity = c.seq;
    ctx.phase('gqa decode');
    const { time, last, memory } = await timeRows(
      ctx,
      Sq,
      async () => {
        const step = await gqaDecodeStep(this.ort, ctx.inputs, { window: c.window, scale, threads: this.threads });
        capacity = step.capacity;
        return { call: () => step.run(), release: () => step.release() };
      },
      ortTiming(ctx.settings.timing),
    );
    remember(ctx, 'gqa-decode', ctx.stats.flops, time.medianMs);
    const out = fromBshd(last, 1, Sq, c.headsQ, c.headDim);
    const request: AttentionRequest = { q: ctx.inputs.q, k: ctx.inputs.k, v: ctx.inputs.v, pattern: buildPattern(c) };
    const check = checkOutput(request, out, ctx.settings.checkRows);
    return { status: 'ok', time, memory, check, notes: gqaDecodeNotes(c.window, capacity) };
  }

  async dispose(): Promise<void> {}
}
