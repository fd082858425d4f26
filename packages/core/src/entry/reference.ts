// @sparse/core/reference: the two independent float64 references (the pattern predicate and the block-mask loop)
// and the pieces they are made of, for tests, fixtures and tools.
export { makePredicate, type PositionContext, type Predicate } from '../pattern/predicate.js';
export { drawKeyBlocks, fmix32, mulberry32 } from '../pattern/prng.js';
export { type Attention64, type RowSample, referenceAttention, referenceAttention64, referenceRows, toResult } from '../reference/attention.js';
export { referenceMemoryBytes } from '../reference/backend.js';
export { type BlockedOptions, blockedAttention64 } from '../reference/blocked.js';
export { clusterLabel, normalisedCentroids, type TopkCut, topkCut } from '../reference/content.js';
// Seeded data for tests, fixtures and tools (the same values in every package and runtime); re-exported, with the
// closeness checks, by @sparse/conformance/testing.
export { type RandomOptions, randomArray, randomTensor, uniform, unitFloat } from '../testing/random.js';
export { bruteRows, cloneRequest, makeRequest, maxAbsDiff, type Qkv, type QkvShape, qkv, withDuplicateKeys } from '../testing/requests.js';
