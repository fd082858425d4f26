export { type TfjsBackend, type TfjsBackendOptions, tfjs } from './backend.js';
export { DEFAULT_BLOCK, DEFAULT_MAX_SCORE_ELEMENTS, sparseAttention } from './resident.js';
export { activeTolerance, FLOAT32_TOLERANCE, type Tolerance, toleranceFor } from './tolerance.js';
export type { ComputeOptions, SparseAttentionArgs, SparseAttentionOutput, Tensor, TF } from './types.js';
