import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '..', '..', 'node_modules', '.bin');

export interface Manifest {
  main?: string;
  exports?: Record<string, unknown>;
  dist: { tarball: string };
}

/** The published tarball of name@version, downloaded from the registry into `dir`, and its manifest. */
export async function download(url: string, name: string, version: string, dir: string): Promise<{ tgz: string; manifest: Manifest }> {
  const packument = (await (await fetch(`${url}/${name.replace('/', '%2f')}`)).json()) as { versions: Record<string, Manifest> };
  const manifest = packument.versions[version];
  if (!manifest) throw new Error(`${name}@${version} is not in the registry`);
  const tgz = join(dir, `${name.replace('@', '').replace('/', '-')}-${version}.tgz`);
  writeFileSync(tgz, Buffer.from(await (await fetch(manifest.dist.tarball)).arrayBuffer()));
  return { tgz, manifest };
}

const target = (value: unknown): string => (typeof value === 'string' ? value : value && typeof value === 'object' ? target(Object.values(value).at(-1)) : '');

/** Subpaths of `exports` that are files, not modules (a .wasm kernel, a .node addon, package.json): attw cannot type those. */
export const assetEntrypoints = (manifest: Manifest): string[] =>
  Object.entries(manifest.exports ?? {})
    .filter(([, value]) => !/\.(m?js|d\.ts)$/.test(target(value)))
    .map(([key]) => key);

/** A package whose only entries are a bin or files (the CLI, the addon's platform package) has no module to type. */
export const hasModules = (manifest: Manifest): boolean =>
  manifest.main !== undefined || Object.keys(manifest.exports ?? {}).length > assetEntrypoints(manifest).length;

export interface LintResult {
  ok: boolean;
  output: string;
}

function tool(bin: string, args: string[]): LintResult {
  const r = spawnSync(join(BIN, bin), args, { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`.trim() };
}

export const publint = (tgz: string): LintResult => tool('publint', ['run', tgz, '--strict']);

/**
 * The `esm-only` profile: the packages are ESM only ("type": "module", no `require` condition), so the CommonJS
 * resolutions (node10, node16 from CJS) are expected to fail; every ESM resolution (node16 from ESM, bundler)
 * must find types that match the JavaScript. `--no-definitely-typed`: no look-up of @types packages upstream.
 */
export function attw(tgz: string, manifest: Manifest): LintResult {
  const assets = assetEntrypoints(manifest);
  const exclude = assets.length ? ['--exclude-entrypoints', ...assets] : [];
  return tool('attw', [tgz, '--profile', 'esm-only', '--format', 'ascii', '--no-definitely-typed', '--no-color', '--no-emoji', ...exclude]);
}
