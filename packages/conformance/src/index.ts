export { caseFromFiles, FIXTURES_DIR, type GoldenCase, listCases, loadCase, makeFilter, readIndex } from './cases.js';
export { type CaseOutcome, compareResult } from './compare.js';
export { type CaseManifest, type FixtureIndex, FLOAT32_TOLERANCE, type Tolerance } from './manifest.js';
export { type ConformanceReport, formatReport, runConformance } from './report.js';
export { type RunOptions, runCase } from './run.js';
