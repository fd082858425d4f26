// The parts of @sparse/conformance that need no Node built-ins: a browser page fetches fixtures/<id>/case.json and its
// .npy files, builds the case with caseFromFiles and checks a backend with runCase / compareResult.
export { caseFromFiles, type GoldenCase, makeFilter } from './case-files.js';
export { type CaseOutcome, compareResult } from './compare.js';
export { type CaseManifest, type FixtureIndex, FLOAT32_TOLERANCE, type Tolerance } from './manifest.js';
export { type RunOptions, runCase } from './run.js';
