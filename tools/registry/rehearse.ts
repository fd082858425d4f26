import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddonBuild } from './addon.js';
import { buildCopy, changesetVersion, copyRepository, publishAll, stageAddon } from './release.js';
import type { Registry } from './verdaccio.js';
import { publicPackages } from './workspace.js';

/** A changeset of the rehearsal itself, so that every public package has one even when none is pending. */
export const REHEARSAL = 'Release rehearsal: every public package published to a local registry.';

/** The outcome of a release rehearsal, as plain data. */
export interface Rehearsal {
  /** The released copy of the repository (removed by whoever called `rehearse`). */
  copy: string;
  /** Every public package's version after `changeset version`. */
  versions: Record<string, string>;
  /** The `dist.integrity` of every package published. */
  integrity: Record<string, string>;
  /** The changesets of the copy (file → text), read before `changeset version` consumes them. */
  changesets: Record<string, string>;
}

/**
 * The release as it would go to the public registry: a copy of the repository is installed and built, the addon
 * (when there is one) staged into its platform package, then `changeset version` and `pnpm publish -r` to `registry`.
 */
export async function rehearse(registry: Registry, addon: AddonBuild): Promise<Rehearsal> {
  const copy = copyRepository();
  try {
    return await release(copy, registry, addon);
  } catch (e) {
    rmSync(copy, { recursive: true, force: true });
    throw e;
  }
}

async function release(copy: string, registry: Registry, addon: AddonBuild): Promise<Rehearsal> {
  buildCopy(copy);
  if ('binary' in addon) stageAddon(copy, addon.binary);
  const front = publicPackages(copy).map((p) => `'${p.name}': patch`);
  writeFileSync(join(copy, '.changeset', 'release-rehearsal.md'), `---\n${front.join('\n')}\n---\n\n${REHEARSAL}\n`);
  const changesets: Record<string, string> = {};
  for (const file of readdirSync(join(copy, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md'))
    changesets[file] = readFileSync(join(copy, '.changeset', file), 'utf8');
  changesetVersion(copy);
  const versions = Object.fromEntries(publicPackages(copy).map((p) => [p.name, p.version]));
  publishAll(copy, registry.env, `${registry.url}/`, 'binary' in addon);
  const integrity: Record<string, string> = {};
  for (const [name, version] of Object.entries(versions)) {
    const res = await fetch(`${registry.url}/${name.replace('/', '%2f')}`);
    if (res.status === 404) continue; // the platform package, without an addon
    const doc = (await res.json()) as { versions: Record<string, { dist: { integrity: string } }> };
    integrity[name] = doc.versions[version]!.dist.integrity;
  }
  return { copy, versions, integrity, changesets };
}
