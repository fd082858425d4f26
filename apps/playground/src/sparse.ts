/**
 * Everything the playground takes from the @sparse packages, in one place: when an export moves (to a subpath of
 * @sparse/core, say), this is the only file to change.
 */
import type { Backend } from '@sparse/core';

/** The attention request type of core, named by what the app passes to `Backend.attention`. */
export type { AttentionRequest } from '@sparse/core';
export {
  atrous,
  type Backend,
  type BlockMask,
  bigBird,
  compileBlockMask,
  documents,
  fromFlashAttention,
  fromHfLongformerWindow,
  fromLongformerWindow,
  fromOrtLocalWindow,
  fromSlidingWindow,
  type HostTensor,
  isSparseAttentionError,
  longformer,
  neighborhood,
  type Pattern,
  type ProbeResult,
  prefixLM,
  reference,
  SparseAttentionError,
  selectBackend,
  slidingWindowCausal,
  sparseTransformerFixed,
  sparseTransformerStrided,
  validatePattern,
  validatePatternForShapes,
} from '@sparse/core';
export { referenceRows } from '@sparse/core/reference';
export { cpuWasm } from '@sparse/cpu-wasm';
export { tfjs } from '@sparse/tfjs';
export { webgpu } from '@sparse/webgpu';

/**
 * The part of the Backend contract the playground calls. Typing the factories' results by it (not by the whole
 * `Backend`) keeps the app building while packages add members to their backends.
 */
export type UsedBackend = Pick<Backend, 'name' | 'probe' | 'supports' | 'attention' | 'dispose'>;
