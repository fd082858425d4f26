// The behaviour suite without vitest: runs every check in turn on one backend and reports each by name, for a
// browser page (or any runner) that cannot call describeBehaviour.
import { BehaviourFailure } from './assert.js';
import { BEHAVIOUR_LEAK_CHECK, type BehaviourCheck, behaviourChecks } from './checks.js';
import { behaviourContext } from './context.js';
import type { BehaviourOptions } from './types.js';

/** What one check did: passed, failed (with the message) or skipped (with the reason). */
export interface BehaviourOutcome {
  /** The check's name (describeBehaviour's test title); the last outcome is 'leaves no backend of its own undisposed'. */
  name: string;
  status: 'pass' | 'fail' | 'skip';
  /** The failure (a BehaviourFailure's words, or another error's stack) or the reason for the skip. */
  message?: string;
  ms: number;
}

export interface BehaviourRun {
  /** What the started backend's probe said; when false no check ran and `reason` says why. */
  available: boolean;
  reason?: string;
  outcomes: BehaviourOutcome[];
}

/**
 * Runs the behaviour suite on a backend from `options.create`, check after check as describeBehaviour does (same
 * names, order, skips and the resident part only with `resident` hooks), and reports each outcome instead of
 * registering tests. A check that throws is a failure; nothing else stops the run. `only` picks the checks to run
 * (all by default). `requireAvailable` is the caller's to apply: an unavailable backend gives `available: false` and
 * no outcomes.
 */
export async function runBehaviour<T = unknown>(
  options: Omit<BehaviourOptions<T>, 'requireAvailable'>,
  only?: (check: BehaviourCheck<T>) => boolean,
): Promise<BehaviourRun> {
  const started = await options.create();
  try {
    const probe = await started.probe();
    if (!probe.available) return { available: false, reason: probe.reason ?? 'unavailable', outcomes: [] };
    const ctx = behaviourContext(options, started);
    const outcomes: BehaviourOutcome[] = [];
    for (const check of behaviourChecks<T>()) {
      if (only && !only(check)) continue;
      const reason = check.part === 'resident' && !options.resident ? 'no resident hooks given' : options.skip?.[check.part];
      if (reason !== undefined) {
        outcomes.push({ name: check.name, status: 'skip', message: reason, ms: 0 });
        continue;
      }
      const t0 = performance.now();
      try {
        await check.run(ctx);
        outcomes.push({ name: check.name, status: 'pass', ms: performance.now() - t0 });
      } catch (e) {
        const message = e instanceof BehaviourFailure ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e);
        outcomes.push({ name: check.name, status: 'fail', message, ms: performance.now() - t0 });
      }
    }
    const live = ctx.live();
    outcomes.push({
      name: BEHAVIOUR_LEAK_CHECK,
      status: live === 0 ? 'pass' : 'fail',
      ...(live === 0 ? {} : { message: `${live} fresh backend(s) not disposed` }),
      ms: 0,
    });
    return { available: true, outcomes };
  } finally {
    await started.dispose();
  }
}
