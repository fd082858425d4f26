export { type TfjsBackend, tfjs } from './backend.js';
export type { TfjsRunInfo } from './device.js';
export { DEFAULT_MAX_SCORE_ELEMENTS, DEFAULT_TILE, type TfjsBackendOptions } from './options.js';
export type { TfjsResident } from './resident.js';
export { activeTolerance, toleranceFor } from './tolerance.js';
export type { Strategy, TakeMode, Tensor, TF } from './types.js';
