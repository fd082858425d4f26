// The parts of @sparse/conformance that need no Node built-ins: a browser page fetches fixtures/<id>/case.json and its
// .npy files, builds the case with caseFromFiles and checks a backend with runCase / compareResult; runBehaviour runs
// the behaviour suite (the checks describeBehaviour registers as tests) and reports each check by name.

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
export { caseFromFiles, type GoldenCase, makeFilter } from './case-files.js';
export { type CaseOutcome, compareResult } from './compare.js';
export { type CaseManifest, type FixtureIndex, FLOAT32_TOLERANCE, type Tolerance } from './manifest.js';
export { type RunOptions, runCase } from './run.js';
