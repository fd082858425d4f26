import type { Backend } from '@sparse/core';
import { describe, expect, it } from 'vitest';
import { suiteBackend } from '../suite-backend.js';
import { BEHAVIOUR_LEAK_CHECK, type BehaviourCheck, behaviourChecks } from './checks.js';
import { behaviourContext } from './context.js';
import type { BehaviourOptions } from './types.js';

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
    const test = ({ part, name, run }: BehaviourCheck<T>) => {
      const reason = options.skip?.[part];
      if (reason !== undefined) {
        it.skip(`${name} (skipped: ${reason})`, () => undefined);
        return;
      }
      it(
        name,
        async (t) => {
          const b = under.get();
          if ('unavailable' in b) {
            t.skip(`backend unavailable: ${b.unavailable}`);
            return;
          }
          await run(context(b.backend));
        },
        timeout,
      );
    };

    let residentSkipped = false;
    for (const check of behaviourChecks<T>()) {
      if (check.part === 'resident' && !options.resident) {
        if (!residentSkipped) it.skip('resident: attentionResident (skipped: no resident hooks given)', () => undefined);
        residentSkipped = true;
        continue;
      }
      test(check);
    }

    it(BEHAVIOUR_LEAK_CHECK, () => {
      expect(ctx?.live() ?? 0).toBe(0);
    });
  });
}
