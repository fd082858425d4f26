// @sparse/core/reference: the two independent float64 references (the pattern predicate and the block-mask loop)
// and the pieces they are made of, for tests, fixtures and tools.
export { makePredicate, type PositionContext, type Predicate } from '../pattern/predicate.js';
export { drawKeyBlocks, fmix32, mulberry32 } from '../pattern/prng.js';
export { type Attention64, type RowSample, referenceAttention, referenceAttention64, referenceRows, toResult } from '../reference/attention.js';
export { referenceMemoryBytes } from '../reference/backend.js';
export { type BlockedOptions, blockedAttention64 } from '../reference/blocked.js';
export { clusterLabel, normalisedCentroids, type TopkCut, topkCut } from '../reference/content.js';
