export { compareWithReference, FLOAT32_FUZZ_TOLERANCE, type FuzzTolerance } from './bounds.js';
export { BREAKAGES, type Breakage, brokenArb } from './invalid.js';
export { contentPatternArb, type PatternShape, staticPatternArb } from './patterns.js';
export { type FuzzedRequest, type RequestSpace, requestArb, type Sprinkle } from './requests.js';
export {
  type FuzzOptions,
  type FuzzOutcome,
  fuzzBackend,
  fuzzConcurrency,
  fuzzInvalid,
  fuzzLeaks,
  fuzzValid,
  type ResourceCounter,
} from './run.js';
