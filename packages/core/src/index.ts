export { type Backend, type BackendChoice, type ProbeResult, type ReferenceBackendOptions, reference, type Selection, selectBackend } from './backend.js';
export { type BlockMask, BlockMaskCache, type BlockMaskStats, compileBlockMask, forEachAllowedKey, type TileSizes } from './compile/blockmask.js';
export * from './errors.js';
export { mergeAttention } from './merge.js';
export { type NpyArray, type NpyData, type NpyDtype, npyToFloat32, readNpy, writeNpy } from './npy.js';
export {
  attendByResidue,
  gatherRows,
  type ResidueGroup,
  type ResiduePartition,
  residueGroupPlans,
  residuePartition,
  runResiduePartition,
} from './partition.js';
export { canonicalPattern, patternKey } from './pattern/canonical.js';
export * from './pattern/convert.js';
export { makePredicate, type PositionContext, type Predicate } from './pattern/predicate.js';
export { drawKeyBlocks, fmix32, mulberry32 } from './pattern/prng.js';
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
export { type Attention64, type RowSample, referenceAttention, referenceAttention64, referenceRows, toResult } from './reference/attention.js';
export { type BlockedOptions, blockedAttention64 } from './reference/blocked.js';
export { clusterLabel, normalisedCentroids, type TopkCut, topkCut } from './reference/content.js';
export {
  type AttentionPlan,
  type AttentionRequest,
  type AttentionResult,
  ownedRequest,
  planAttention,
  planAttentionShapes,
  type ShapeRequest,
} from './request.js';
export * from './tensor.js';
