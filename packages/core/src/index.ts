// @sparse/core: what a user of the library needs. Backend authors and tools find the rest on the subpaths
// `@sparse/core/backend` (the backend kit) and `@sparse/core/reference` (the float64 references and predicates).
export { type Backend, type BackendChoice, type ProbeResult, type RunInfo, type Selection, selectBackend } from './backend.js';
export { type BlockMask, BlockMaskCache, type BlockMaskStats, compileBlockMask, type TileSizes } from './compile/blockmask.js';
export { isSparseAttentionError, SparseAttentionError, type SparseErrorCode } from './errors.js';
export type { BackendOptions, TileOptions } from './kit/options.js';
export { mergeAttention } from './merge.js';
export { type NpyArray, type NpyData, type NpyDtype, npyToFloat32, readNpy, writeNpy } from './npy.js';
export { canonicalPattern, patternKey } from './pattern/canonical.js';
export * from './pattern/convert.js';
export * from './pattern/sugar.js';
export * from './pattern/types.js';
export {
  MAX_INDEX,
  MAX_PATTERN_DEPTH,
  MAX_PATTERN_NODES,
  type PatternContext,
  parsePattern,
  validatePattern,
  validatePatternForShapes,
} from './pattern/validate.js';
export { type ReferenceBackendOptions, reference } from './reference/backend.js';
export type { AttentionPlan, AttentionRequest, AttentionResult, ResidentRequest, ResidentResult, ShapeRequest } from './request.js';
export type { AttentionDims, HostTensor, Layout } from './tensor.js';
export { FLOAT32_TOLERANCE, type Tolerance } from './tolerance.js';
