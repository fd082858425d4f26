import type { Backend } from '@sparse/core';
import { describe, expect, it } from 'vitest';
import { suiteBackend } from '../suite-backend.js';
import { checkAbortDuring, checkAbortedBefore } from './abort.js';
import { checkBurst } from './concurrency.js';
import { behaviourContext } from './context.js';
import { checkDisposedFresh, checkDisposeWhileRunning } from './dispose.js';
import { BAD_INPUTS, checkBadFirstCall, checkBadInput } from './inputs.js';
import { checkDilatedPieces, checkLastRun } from './last-run.js';
import { checkOwnership } from './ownership.js';
import { checkResidentAborted, checkResidentAgrees, checkResidentDisposed } from './resident.js';
import { checkTolerance } from './tolerance.js';
import type { BehaviourContext, BehaviourOptions, BehaviourPart } from './types.js';

/**
 * Registers the behaviour suite for a backend: what every backend does the same way through the public Backend API
 * (bad input, abort, dispose, concurrent calls, ownership of the inputs, device-tensor calls, tolerance(),
 * lastRun()). Call it at the top level of a test file:
 *   describeBehaviour({ name: 'my-backend', create: (o) => myBackend(o) });
 */
export function describeBehaviour<T = unknown>(options: BehaviourOptions<T>): void {
  const requireAvailable = options.requireAvailable ?? process.env.CI === 'true';
  const timeout = 300_000;
  describe(`behaviour: ${options.name}`, () => {
    const under = suiteBackend(options.name, () => options.create(), requireAvailable);
    let ctx: ReturnType<typeof behaviourContext<T>> | undefined;
    const context = (backend: Backend) => {
      if (ctx?.started !== backend) ctx = behaviourContext(options, backend);
      return ctx;
    };
    const test = (part: BehaviourPart, title: string, body: (ctx: BehaviourContext<T>) => Promise<void>) => {
      const reason = options.skip?.[part];
      if (reason !== undefined) {
        it.skip(`${part}: ${title} (skipped: ${reason})`, () => undefined);
        return;
      }
      it(
        `${part}: ${title}`,
        async (t) => {
          const b = under.get();
          if ('unavailable' in b) {
            t.skip(`backend unavailable: ${b.unavailable}`);
            return;
          }
          await body(context(b.backend));
        },
        timeout,
      );
    };

    for (const bad of BAD_INPUTS)
      test('inputs', `${bad.name} → ${bad.code} '${bad.field}', and supports() says the same`, ({ started }) => checkBadInput(started, bad));
    test('inputs', 'a fresh backend refuses a bad first call and runs the next', checkBadFirstCall);

    test('abort', "an aborted signal rejects ABORTED 'signal' (fresh and started backend)", checkAbortedBefore);
    test('abort', 'a call aborted while it runs resolves or rejects ABORTED, never hangs, and the next call works', checkAbortDuring);

    test('dispose', 'calls made before dispose() finish with correct results; then BACKEND_UNAVAILABLE, "disposed", unavailable', checkDisposeWhileRunning);
    test('dispose', 'a backend disposed before any call answers the same, and dispose() again resolves', checkDisposedFresh);

    test('concurrency', '8 calls in flight equal the same calls in turn and the float64 reference', checkBurst);

    test('ownership', 'inputs mutated right after attention() returns do not change its result (fresh and started)', checkOwnership);

    if (options.resident) {
      test('resident', 'attentionResident agrees with attention() on the same requests', checkResidentAgrees);
      test('resident', "attentionResident with an aborted signal rejects ABORTED 'signal'", checkResidentAborted);
      test('resident', "attentionResident after dispose() rejects BACKEND_UNAVAILABLE 'backend'", checkResidentDisposed);
    } else it.skip('resident: attentionResident (skipped: no resident hooks given)', () => undefined);

    test('tolerance', 'tolerance() answers before probe(): finite, non-negative atol, rtol, lseAtol', checkTolerance);

    test('lastRun', 'lastRun() is null before the first call, then names backend, device, pieces, ms', checkLastRun);
    test('lastRun', 'a dilated call (dilation 3) with partitionDilation reports pieces >= 2', checkDilatedPieces);

    it('leaves no backend of its own undisposed', () => {
      expect(ctx?.live() ?? 0).toBe(0);
    });
  });
}
