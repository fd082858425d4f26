// Core's tests take their seeded data from the module every package's tests share (@sparse/core/reference, re-exported by @sparse/conformance/testing).
export { bruteRows, maxAbsDiff, qkv, randomTensor } from '../src/entry/reference.js';
