import type { Backend } from '@sparse/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listCases, loadCase } from './cases.js';
import { type RunOptions, runCase } from './run.js';

export interface ConformanceSuiteOptions extends RunOptions {
  /** Label of the suite, e.g. 'cpu-wasm 2 threads'. */
  name: string;
  /** Creates the backend under test (once for the suite; disposed after it). */
  create: () => Backend | Promise<Backend>;
  /** Only the cases whose id or tag matches (substring, or /regex/). */
  filter?: string;
  /**
   * When the backend's probe says unavailable: true fails the suite (CI), false skips every case with the probe's
   * reason. Defaults to true when the environment variable CI is 'true'.
   */
  requireAvailable?: boolean;
}

/**
 * Registers one vitest test per golden case for a backend. Call it at the top level of a test file:
 *   describeConformance({ name: 'my-backend', create: () => myBackend() });
 */
export function describeConformance(options: ConformanceSuiteOptions): void {
  const manifests = listCases({ filter: options.filter });
  const requireAvailable = options.requireAvailable ?? process.env.CI === 'true';
  describe(`conformance: ${options.name}`, () => {
    let backend: Backend | undefined;
    let unavailable: string | undefined;
    beforeAll(async () => {
      backend = await options.create();
      const probe = await backend.probe();
      if (!probe.available) {
        unavailable = probe.reason ?? 'unavailable';
        if (requireAvailable) throw new Error(`${options.name}: backend ${backend.name} is unavailable here (${unavailable}); CI requires it`);
      }
    }, 120_000);
    afterAll(async () => {
      await backend?.dispose();
    });
    it('has golden cases to run', () => {
      expect(manifests.length).toBeGreaterThan(0);
    });
    for (const manifest of manifests) {
      const reason = options.skip?.[manifest.id];
      if (reason !== undefined) {
        it.skip(`${manifest.id} (skipped: ${reason})`, () => undefined);
        continue;
      }
      it(manifest.id, async (ctx) => {
        if (unavailable !== undefined) {
          ctx.skip(`backend unavailable: ${unavailable}`);
          return;
        }
        const outcome = await runCase(backend!, loadCase(manifest), options);
        expect(outcome.pass, `${manifest.id} (${manifest.pins}): ${outcome.message}`).toBe(true);
      });
    }
  });
}
