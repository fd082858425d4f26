// @sparse/core/backend: the backend kit. A backend is device code (start, run, release, and the checks of its
// limits) handed to defineBackend, which gives every backend the same pipeline, errors and API
// (docs/design.md, "Writing a backend").
export { BlockMaskCache, forEachAllowedKey } from '../compile/blockmask.js';
export { fail, show } from '../errors.js';
export { type DeviceCode, defineBackend, type Kit, type KitBackend, type Refusal } from '../kit/define.js';
export { abortedError, disposedError, internalError, throwIfAborted, throwRefusal, unavailableError } from '../kit/errors.js';
export { HEAD_FIELD, HEAD_MODE, HEAD_WORDS, type HeadTable, headTableSource, type LabelGroup, packHeadTable } from '../kit/head-table.js';
export { type BackendOptions, type ResolvedOptions, resolveOptions, type TileLimits, type TileOptions } from '../kit/options.js';
export { emptyResult, gatherPiece, isWhole, type Piece, type PieceOptions, type PieceSelection, planPieces, scatterPiece } from '../kit/pieces.js';
export { type ResidueGroup, type ResiduePartition, residuePartition } from '../partition.js';
export { drawKeyBlocks } from '../pattern/prng.js';
export { clusterLabel, FLOAT32_MAX, isFiniteFloat32, normalisedCentroids, type TopkCut, topkCut } from '../reference/content.js';
export { type AttentionPlan, ownedRequest, planAttention, planAttentionShapes, type ShapeRequest } from '../request.js';
export { rowOffset, shapeOf } from '../tensor.js';
