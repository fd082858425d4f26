import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { caseFromFiles, type GoldenCase, makeFilter } from './case-files.js';
import type { CaseManifest, FixtureIndex } from './manifest.js';

export { caseFromFiles, type GoldenCase, makeFilter };

/** The fixtures folder shipped with the package. */
export const FIXTURES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

export function readIndex(dir = FIXTURES_DIR): FixtureIndex {
  return JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as FixtureIndex;
}

/** Case manifests, optionally filtered by a substring or /regex/ on the id and tags. */
export function listCases(options: { dir?: string; filter?: string } = {}): CaseManifest[] {
  const dir = options.dir ?? FIXTURES_DIR;
  const match = makeFilter(options.filter);
  return readIndex(dir)
    .cases.map((id) => JSON.parse(readFileSync(join(dir, id, 'case.json'), 'utf8')) as CaseManifest)
    .filter((m) => match(m));
}

export function loadCase(manifest: CaseManifest, dir = FIXTURES_DIR): GoldenCase {
  const read = (f: string) => new Uint8Array(readFileSync(join(dir, manifest.id, f)));
  const f = manifest.files;
  return caseFromFiles(manifest, { q: read(f.q), k: read(f.k), v: read(f.v), out: read(f.out), lse: read(f.lse) });
}
