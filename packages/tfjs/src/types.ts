import type { BlockMaskCache, Layout, Pattern } from '@sparse/core';
import type * as tfc from '@tensorflow/tfjs-core';

/** The tf.js namespace the caller uses (`import * as tf from '@tensorflow/tfjs'` or `@tensorflow/tfjs-core`). */
export type TF = typeof tfc;
export type Tensor = tfc.Tensor;

/** Arguments of the resident entry point: tf.Tensors in, tf.Tensors out (docs/resident.md). */
export interface SparseAttentionArgs {
  /** [B, Hq, Sq, D] (or [B, Sq, Hq, D] with layout 'bshd'), float32. */
  q: Tensor;
  /** [B, Hkv, Sk, D], float32. */
  k: Tensor;
  /** [B, Hkv, Sk, Dv], float32. */
  v: Tensor;
  /** One pattern for every head, or one per query head. */
  pattern: Pattern | readonly Pattern[];
  /** Defaults to 1 / sqrt(D). */
  scale?: number;
  /** p = i + queryOffset; defaults to Sk - Sq. */
  queryOffset?: number;
  layout?: Layout;
  returnLse?: boolean;
}

export interface SparseAttentionOutput {
  /** [B, Hq, Sq, Dv] in the request's layout. */
  out: Tensor;
  /** [B, Hq, Sq] when requested; -Infinity for rows with no allowed key. */
  lse?: Tensor;
}

/**
 * How query blocks share matrix products. `batched`: each query block multiplies only its own listed key blocks,
 * one batched matMul per chunk (least work; best on cpu, webgl, webgpu). `plain`: runs of consecutive query
 * blocks multiply the union of their key blocks, one (batch, kv head) at a time, so every product is a plain
 * batch-1 matMul (more work, but tf.js wasm runs only those on XNNPACK, about 10x faster than its batched loop).
 * `auto` (default): `plain` on the wasm backend, `batched` elsewhere.
 */
export type Strategy = 'auto' | 'batched' | 'plain';

/** Tuning knobs; the defaults suit every tf.js backend. */
export interface ComputeOptions {
  /** Query rows per block of the compiled mask (default 64). */
  blockQ?: number;
  /** Keys per block of the compiled mask (default 64). */
  blockK?: number;
  /**
   * Most score elements (batch · heads · rows · listed keys) one batch of query blocks may hold; larger work is
   * split into several batches, which bounds peak memory (default 2^20 = 4 MiB of float32 scores).
   */
  maxScoreElements?: number;
  strategy?: Strategy;
  /**
   * How blocks are read: `slice` (default on cpu, where gather is element-wise) or `gatherNd` (default elsewhere;
   * tf.js wasm copies a whole tensor for every slice).
   */
  take?: 'slice' | 'gatherNd';
  /** Cache of compiled masks (default: one shared by every call, 32 entries). */
  cache?: BlockMaskCache;
}
