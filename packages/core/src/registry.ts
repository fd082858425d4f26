// The backends the project ships and how to load one by name or module path. Browser-safe: nothing here imports a
// Node built-in up front; a spec that is a file path (Node only) resolves it with node:path and node:url, imported
// when needed.
import type { Backend, ProbeResult } from './backend.js';
import { SparseAttentionError } from './errors.js';
import { reference } from './reference/backend.js';

export interface KnownBackend {
  name: string;
  /** The package that exports its factory. */
  module: string;
  factory: string;
  /** What it runs on, in a line. */
  summary: string;
}

/** The backends the project ships: package name and factory export. `reference` lives in core. */
export const KNOWN_BACKENDS: readonly KnownBackend[] = [
  { name: 'reference', module: '@sparse/core', factory: 'reference', summary: 'plain JavaScript, float64 accumulation; everywhere' },
  { name: 'cpu-wasm', module: '@sparse/cpu-wasm', factory: 'cpuWasm', summary: 'WebAssembly SIMD kernels on worker threads (Node, browsers)' },
  { name: 'webgpu', module: '@sparse/webgpu', factory: 'webgpu', summary: 'WGSL kernels (navigator.gpu, or the `webgpu` package in Node)' },
  { name: 'cuda-native', module: '@sparse/cuda-native', factory: 'cudaNative', summary: 'CUDA kernels in a Node-API addon (NVIDIA GPUs)' },
  { name: 'tfjs', module: '@sparse/tfjs', factory: 'tfjs', summary: 'TensorFlow.js ops on the current tf.js backend' },
];

/** Imports a module by specifier; the caller's own, so that packages resolve from its dependency scope. */
export type ModuleImporter = (specifier: string) => Promise<Record<string, unknown>>;

const defaultImporter: ModuleImporter = (s) => import(/* @vite-ignore */ s) as Promise<Record<string, unknown>>;

/** Whether a spec names a file (relative, absolute, a .js/.mjs/.cjs file, a Windows drive path) rather than a package. */
export function isModulePath(spec: string): boolean {
  return spec.startsWith('.') || spec.startsWith('/') || /\.[cm]?js$/.test(spec) || /^[A-Za-z]:[\\/]/.test(spec);
}

/** Node's built-ins by a computed name: bundlers for browsers leave them alone, and only path specs reach them. */
const nodeBuiltin = <T>(name: string): Promise<T> => import(/* @vite-ignore */ name) as Promise<T>;

/** A file path as a file: URL (relative paths from the working directory). */
async function fileUrl(spec: string): Promise<string> {
  const { resolve } = await nodeBuiltin<{ resolve(...p: string[]): string }>('node:path');
  const { pathToFileURL } = await nodeBuiltin<{ pathToFileURL(p: string): URL }>('node:url');
  return pathToFileURL(resolve(spec)).href;
}

function asBackend(value: unknown): Backend | null {
  const b = value as Backend | null;
  return b && typeof b === 'object' && typeof b.name === 'string' && typeof b.attention === 'function' && typeof b.probe === 'function' ? b : null;
}

/**
 * Creates a backend from a known name (`cpu-wasm`) or from a module that a third party wrote (a package name or a
 * file path): the module's default export (or `createBackend`) is a factory returning a Backend, or a Backend
 * itself. `importer` lets the caller import from its own dependency scope (pnpm keeps each package's dependencies
 * to itself); file paths are imported directly. `factoryOptions` is passed to the factory.
 */
export async function loadBackend(spec: string, options: { importer?: ModuleImporter; factoryOptions?: unknown } = {}): Promise<Backend> {
  const importer = options.importer ?? defaultImporter;
  if (spec === 'reference') return reference((options.factoryOptions ?? {}) as Parameters<typeof reference>[0]);
  const known = KNOWN_BACKENDS.find((k) => k.name === spec);
  const path = !known && isModulePath(spec);
  let target = known ? known.module : spec;
  let mod: Record<string, unknown>;
  try {
    if (path) target = await fileUrl(spec);
    mod = path ? await defaultImporter(target) : await importer(target);
  } catch (e) {
    const code = (e as { code?: string }).code;
    const missing =
      code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_PACKAGE_PATH_NOT_EXPORTED' || /Cannot find (module|package)/.test(String((e as Error).message));
    const why =
      missing && known ? `the package ${known.module} is not installed (npm install ${known.module})` : `cannot import ${target}: ${(e as Error).message}`;
    throw new SparseAttentionError('BACKEND_UNAVAILABLE', `backend "${spec}": ${why}`, { field: 'backend', cause: e });
  }
  const factory = known ? mod[known.factory] : (mod.default ?? mod.createBackend);
  const direct = asBackend(factory);
  if (direct) return direct;
  if (typeof factory !== 'function') {
    throw new SparseAttentionError(
      'BACKEND_UNAVAILABLE',
      `backend "${spec}": the module exports no backend factory (${known ? known.factory : 'default or createBackend'})`,
      { field: 'backend' },
    );
  }
  const made = asBackend(await (factory as (o?: unknown) => unknown)(options.factoryOptions));
  if (!made)
    throw new SparseAttentionError(
      'BACKEND_UNAVAILABLE',
      `backend "${spec}": the factory did not return a Backend (name, probe, supports, attention, dispose)`,
      { field: 'backend' },
    );
  return made;
}

export interface BackendReport extends ProbeResult {
  name: string;
  module: string;
}

/** Probes every known backend; one that cannot even be loaded reports why. Each is disposed after its probe. */
export async function probeKnownBackends(importer?: ModuleImporter): Promise<BackendReport[]> {
  const out: BackendReport[] = [];
  for (const k of KNOWN_BACKENDS) {
    try {
      const b = await loadBackend(k.name, importer ? { importer } : {});
      try {
        out.push({ name: k.name, module: k.module, ...(await b.probe()) });
      } finally {
        await b.dispose().catch(() => undefined);
      }
    } catch (e) {
      out.push({ name: k.name, module: k.module, available: false, reason: (e as Error).message.replace(/^backend "[^"]+": /, '') });
    }
  }
  return out;
}
