// @sparse/conformance/testing: seeded data, requests and closeness checks for the tests of every package. No vitest
// and no Node built-ins: the helpers return a description of a mismatch (or throw an Error), so they work in any
// test runner and in a browser page.
export { FLOAT32_TOLERANCE, type Tolerance } from '@sparse/core';
export {
  bruteRows,
  cloneRequest,
  makeRequest,
  maxAbsDiff,
  mulberry32,
  type Qkv,
  type QkvShape,
  qkv,
  type RandomOptions,
  randomArray,
  randomTensor,
  uniform,
  unitFloat,
  withDuplicateKeys,
} from '@sparse/core/reference';
export {
  assertClose,
  assertMatchesReference,
  type CloseOptions,
  closeMismatch,
  type ExpectedResult,
  referenceMismatch,
  rejection,
  resultMismatch,
  resultShapes,
} from './compare.js';
