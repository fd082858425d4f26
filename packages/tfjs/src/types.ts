import type * as tfc from '@tensorflow/tfjs-core';

/** The tf.js namespace the caller uses (`import * as tf from '@tensorflow/tfjs'` or `@tensorflow/tfjs-core`). */
export type TF = typeof tfc;
export type Tensor = tfc.Tensor;

/**
 * How query blocks share matrix products. `batched`: each query block multiplies only its own listed key blocks,
 * one batched matMul per chunk (least work; best on cpu, webgl, webgpu). `plain`: runs of consecutive query
 * blocks multiply the union of their key blocks, one (batch, kv head) at a time, so every product is a plain
 * batch-1 matMul (more work, but tf.js wasm runs only those on XNNPACK, about 10x faster than its batched loop).
 * `auto` (default): `plain` on the wasm backend, `batched` elsewhere.
 */
export type Strategy = 'auto' | 'batched' | 'plain';

/**
 * How blocks are read: `slice` (default on cpu, where gather is element-wise) or `gatherNd` (default elsewhere;
 * tf.js wasm copies a whole tensor for every slice).
 */
export type TakeMode = 'slice' | 'gatherNd';
