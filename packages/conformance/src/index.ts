// The behaviour suite without vitest (describeBehaviour on ./vitest registers the same checks as tests).
export { BehaviourFailure } from './behaviour/assert.js';
export { BEHAVIOUR_LEAK_CHECK, type BehaviourCheck, behaviourChecks } from './behaviour/checks.js';
export { type BehaviourOutcome, type BehaviourRun, runBehaviour } from './behaviour/run.js';
export type {
  BehaviourContext,
  BehaviourOptions,
  BehaviourPart,
  CreateOptions,
  ResidentBackend,
  ResidentHooks,
  SlowCall,
} from './behaviour/types.js';
export { caseFromFiles, FIXTURES_DIR, type GoldenCase, listCases, loadCase, makeFilter, readIndex } from './cases.js';
export { type CaseOutcome, compareResult } from './compare.js';
export { type CaseManifest, type FixtureIndex, FLOAT32_TOLERANCE, type Tolerance } from './manifest.js';
export { type ConformanceReport, formatReport, runConformance } from './report.js';
export { type RunOptions, runCase } from './run.js';
