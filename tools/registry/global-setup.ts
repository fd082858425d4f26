import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { type AddonBuild, buildAddon } from './addon.js';
import { rehearse } from './rehearse.js';
import { startRegistry } from './verdaccio.js';
import './provided.js';

/**
 * One local registry and one release per test run, for every consumer project of the suite: Verdaccio is started,
 * the release rehearsal publishes every public package to it, and the test files get both through `inject`.
 * The teardown stops the registry, also when a test failed.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let addon: AddonBuild;
  try {
    addon = buildAddon();
  } catch (e) {
    // Reported by the release test, which fails on it; the rest of the suite runs without the platform package.
    addon = { error: (e as Error).message };
  }
  const registry = await startRegistry();
  let copy: string | undefined;
  const teardown = async () => {
    await registry.stop();
    if (copy) rmSync(copy, { recursive: true, force: true });
  };
  try {
    const rehearsal = await rehearse(registry, addon);
    copy = rehearsal.copy;
    project.provide('registry', { url: registry.url, npmrc: registry.npmrc, dir: registry.dir });
    project.provide('rehearsal', rehearsal);
    project.provide('addon', addon);
  } catch (e) {
    await teardown();
    throw e;
  }
  return teardown;
}
