import type { AddonBuild } from './addon.js';
import type { Rehearsal } from './rehearse.js';
import type { RegistryInfo } from './verdaccio.js';

/** What the registry's globalSetup hands the test files (`inject('registry')` …). */
declare module 'vitest' {
  export interface ProvidedContext {
    registry: RegistryInfo;
    rehearsal: Rehearsal;
    addon: AddonBuild;
  }
}
