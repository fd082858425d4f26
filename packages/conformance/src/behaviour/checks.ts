// The behaviour suite as data: every check with the name describeBehaviour gives its test, for runners without
// vitest (a browser page) as well as for describeBehaviour itself.
import { checkAbortDuring, checkAbortedBefore } from './abort.js';
import { checkBurst } from './concurrency.js';
import { checkDisposedFresh, checkDisposeWhileRunning } from './dispose.js';
import { BAD_INPUTS, checkBadFirstCall, checkBadInput } from './inputs.js';
import { checkDilatedPieces, checkLastRun } from './last-run.js';
import { checkOwnership } from './ownership.js';
import { checkResidentAborted, checkResidentAgrees, checkResidentDisposed } from './resident.js';
import { checkTolerance } from './tolerance.js';
import type { BehaviourContext, BehaviourPart } from './types.js';

/** One check of the behaviour suite. It throws (a BehaviourFailure, in words) when the backend gets it wrong. */
export interface BehaviourCheck<T = unknown> {
  part: BehaviourPart;
  /** `${part}: ${what it checks}`, unique; describeBehaviour's test title. */
  name: string;
  run(ctx: BehaviourContext<T>): Promise<void>;
}

/** The last test of describeBehaviour (and outcome of runBehaviour): the fresh backends the checks made are disposed. */
export const BEHAVIOUR_LEAK_CHECK = 'leaves no backend of its own undisposed';

/**
 * Every check of the behaviour suite, in the order describeBehaviour runs them. The resident part needs the
 * `resident` hooks in the options; a runner leaves it out without them (as describeBehaviour does).
 */
export function behaviourChecks<T = unknown>(): BehaviourCheck<T>[] {
  const checks: BehaviourCheck<T>[] = [];
  const add = (part: BehaviourPart, title: string, run: (ctx: BehaviourContext<T>) => Promise<void>) => checks.push({ part, name: `${part}: ${title}`, run });

  for (const bad of BAD_INPUTS)
    add('inputs', `${bad.name} → ${bad.code} '${bad.field}', and supports() says the same`, ({ started }) => checkBadInput(started, bad));
  add('inputs', 'a fresh backend refuses a bad first call and runs the next', checkBadFirstCall);

  add('abort', "an aborted signal rejects ABORTED 'signal' (fresh and started backend)", checkAbortedBefore);
  add('abort', 'a call aborted while it runs resolves or rejects ABORTED, never hangs, and the next call works', checkAbortDuring);

  add('dispose', 'calls made before dispose() finish with correct results; then BACKEND_UNAVAILABLE, "disposed", unavailable', checkDisposeWhileRunning);
  add('dispose', 'a backend disposed before any call answers the same, and dispose() again resolves', checkDisposedFresh);

  add('concurrency', '8 calls in flight equal the same calls in turn and the float64 reference', checkBurst);

  add('ownership', 'inputs mutated right after attention() returns do not change its result (fresh and started)', checkOwnership);

  add('resident', 'attentionResident agrees with attention() on the same requests', checkResidentAgrees);
  add('resident', "attentionResident with an aborted signal rejects ABORTED 'signal'", checkResidentAborted);
  add('resident', "attentionResident after dispose() rejects BACKEND_UNAVAILABLE 'backend'", checkResidentDisposed);

  add('tolerance', 'tolerance() answers before probe(): finite, non-negative atol, rtol, lseAtol', checkTolerance);

  add('lastRun', 'lastRun() is null before the first call, then names backend, device, pieces, ms', checkLastRun);
  add('lastRun', 'a dilated call (dilation 3) with partitionDilation reports pieces >= 2', checkDilatedPieces);
  return checks;
}
