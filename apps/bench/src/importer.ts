import type { ModuleImporter } from '@sparse/core/registry';

/** Imports from this package's dependency scope (pnpm keeps each package's dependencies to itself). */
export const importer: ModuleImporter = (specifier) => import(specifier) as Promise<Record<string, unknown>>;
