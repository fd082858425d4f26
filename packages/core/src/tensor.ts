/** Host tensors (docs/design.md, Tensors): row-major float32 data and a 4-d shape. */
export interface HostTensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

/** `bhsd` = [batch, heads, seq, dim] (default); `bshd` = [batch, seq, heads, dim] (FlashAttention's order). */
export type Layout = 'bhsd' | 'bshd';

/** Sizes of one attention problem, independent of layout. */
export interface AttentionDims {
  batch: number;
  headsQ: number;
  headsKv: number;
  seqQ: number;
  seqK: number;
  headDim: number;
  headDimV: number;
}

/** Offset of element (b, h, s, 0) in a 4-d tensor of `heads × seq × dim` per batch stored in `layout`. */
export function rowOffset(layout: Layout, heads: number, seq: number, dim: number, b: number, h: number, s: number): number {
  return layout === 'bhsd' ? ((b * heads + h) * seq + s) * dim : ((b * seq + s) * heads + h) * dim;
}

/** The 4-d shape of a tensor with these logical sizes in `layout`. */
export function shapeOf(layout: Layout, batch: number, heads: number, seq: number, dim: number): number[] {
  return layout === 'bhsd' ? [batch, heads, seq, dim] : [batch, seq, heads, dim];
}
