import type { Backend } from '@sparse/core';
import { loadBackend, type ModuleImporter, probeKnownBackends } from '@sparse/core/registry';

/** Imports resolve from the CLI's own dependencies, where the backend packages are listed. */
export const importer: ModuleImporter = (s) => import(s) as Promise<Record<string, unknown>>;

export const openBackend = (spec: string): Promise<Backend> => loadBackend(spec, { importer });
export const probeAll = () => probeKnownBackends(importer);
