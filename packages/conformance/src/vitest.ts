import type { Backend } from '@sparse/core';
import { describe, expect, it } from 'vitest';
import { listCases, loadCase } from './cases.js';
import { type FuzzOptions, type FuzzOutcome, fuzzConcurrency, fuzzInvalid, fuzzLeaks, fuzzValid, type ResourceCounter } from './fuzz/run.js';
import { type RunOptions, runCase } from './run.js';
import { suiteBackend } from './suite-backend.js';

export { describeBehaviour } from './behaviour/describe.js';
export type {
  BehaviourOptions,
  BehaviourPart,
  CreateOptions,
  ResidentBackend,
  ResidentHooks,
  SlowCall,
} from './behaviour/types.js';

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
    const under = suiteBackend(options.name, options.create, requireAvailable);
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
        const b = under.get();
        if ('unavailable' in b) {
          ctx.skip(`backend unavailable: ${b.unavailable}`);
          return;
        }
        const outcome = await runCase(b.backend, loadCase(manifest), options);
        expect(outcome.pass, `${manifest.id} (${manifest.pins}): ${outcome.message}`).toBe(true);
      });
    }
  });
}

export interface FuzzSuiteOptions extends FuzzOptions {
  /** Label of the suite, e.g. 'cpu-wasm 2 threads'. */
  name: string;
  /** Creates the backend under test (once for the suite; disposed after it). */
  create: () => Backend | Promise<Backend>;
  /** Calls of the leak check (default 1000). */
  leakCalls?: number;
  /** The backend's own resource counters for the leak check (wasm pages, GPU buffers, tf tensors, …). */
  resources?: ResourceCounter;
  /** As in describeConformance: an unavailable backend fails the suite in CI, and is skipped with its reason elsewhere. */
  requireAvailable?: boolean;
}

/**
 * Registers the fuzz properties for a backend: random valid requests against the float64 reference, random invalid
 * ones against core's typed errors, 32 calls in flight against the same calls in turn, and a leak check. The same
 * seed draws the same requests for every backend. `SPARSE_FUZZ_RUNS` and `SPARSE_FUZZ_SEED` override runs and seed.
 */
export function describeFuzz(options: FuzzSuiteOptions): void {
  const requireAvailable = options.requireAvailable ?? process.env.CI === 'true';
  const runs = Number(process.env.SPARSE_FUZZ_RUNS ?? options.runs ?? 500);
  const seed = Number(process.env.SPARSE_FUZZ_SEED ?? options.seed ?? 42);
  const o: FuzzOptions = { ...options, runs, seed };
  describe(`fuzz: ${options.name}`, () => {
    const under = suiteBackend(options.name, options.create, requireAvailable);
    const property = (title: string, body: (b: Backend) => Promise<FuzzOutcome>) =>
      it(title, async (ctx) => {
        const b = under.get();
        if ('unavailable' in b) {
          ctx.skip(`backend unavailable: ${b.unavailable}`);
          return;
        }
        const outcome = await body(b.backend);
        console.info(`fuzz ${options.name}: ${outcome.property}: ${outcome.checked} of ${outcome.runs} runs checked, ${outcome.ms.toFixed(0)} ms`);
        expect(outcome.failure ?? '', `${outcome.property}: ${outcome.failure}`).toBe('');
        // Most draws must reach the comparison, or the property proves little.
        expect(outcome.checked).toBeGreaterThan(outcome.runs / 2);
      }, 900_000);
    property(`${runs} valid requests match the float64 reference`, (b) => fuzzValid(b, o));
    property(`${runs} invalid requests get core's typed error`, (b) => fuzzInvalid(b, o));
    property('32 calls in flight equal the same calls in turn', (b) => fuzzConcurrency(b, o));
    property(`${options.leakCalls ?? 1000} calls leak nothing`, (b) =>
      fuzzLeaks(b, {
        ...o,
        ...(options.leakCalls !== undefined ? { calls: options.leakCalls } : {}),
        ...(options.resources ? { resources: options.resources } : {}),
      }),
    );
  });
}
