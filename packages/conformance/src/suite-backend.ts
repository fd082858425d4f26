import type { Backend } from '@sparse/core';
import { afterAll, beforeAll } from 'vitest';

/** The backend a suite runs on: created and probed once before its tests, disposed after them. */
export interface SuiteBackend {
  /** The backend, or the probe's reason when it is unavailable here (its tests then skip with that reason). */
  get(): { backend: Backend } | { unavailable: string };
}

/**
 * Registers the suite's beforeAll / afterAll. An unavailable backend fails the suite when `requireAvailable` (CI),
 * and otherwise makes every test skip with the probe's reason.
 */
export function suiteBackend(name: string, create: () => Backend | Promise<Backend>, requireAvailable: boolean): SuiteBackend {
  let backend: Backend | undefined;
  let unavailable: string | undefined;
  beforeAll(async () => {
    backend = await create();
    const probe = await backend.probe();
    if (!probe.available) {
      unavailable = probe.reason ?? 'unavailable';
      if (requireAvailable) throw new Error(`${name}: backend ${backend.name} is unavailable here (${unavailable}); CI requires it`);
    }
  }, 120_000);
  afterAll(async () => {
    await backend?.dispose();
  });
  return { get: () => (unavailable !== undefined ? { unavailable } : { backend: backend! }) };
}
