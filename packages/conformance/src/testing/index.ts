// @sparse/conformance/testing: seeded data, requests and closeness checks for the tests of every package. No vitest
// and no Node built-ins: the helpers return a description of a mismatch (or throw an Error), so they work in any
// test runner and in a browser page.
export { FLOAT32_TOLERANCE, type Tolerance } from '@sparse/core';
export {
  assertClose,
  assertMatchesReference,
  type CloseOptions,
  closeMismatch,
  type ExpectedResult,
  maxAbsDiff,
  referenceMismatch,
  rejection,
  resultMismatch,
  resultShapes,
} from './compare.js';
export { mulberry32, type RandomOptions, randomArray, randomTensor, uniform, unitFloat } from './random.js';
export { bruteRows, cloneRequest, makeRequest, type Qkv, type QkvShape, qkv, withDuplicateKeys } from './requests.js';
