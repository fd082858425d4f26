import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PLATFORM_PACKAGE } from './platform.js';
import { PNPM, publicPackages, ROOT, run, workspacePackages } from './workspace.js';

/** A copy of the repository in a temp dir: the files git tracks or would track, as they are on disk. */
export function copyRepository(): string {
  const dest = mkdtempSync(join(tmpdir(), 'sparse-release-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    const from = join(ROOT, file);
    if (!existsSync(from)) continue; // deleted in the working tree
    mkdirSync(dirname(join(dest, file)), { recursive: true });
    cpSync(from, join(dest, file));
  }
  return dest;
}

/**
 * Installs the copy from its lockfile and builds the public packages, as a release job would: offline, since the
 * store already holds every package of the lockfile, and without the CUDA build, whose addon the release stages
 * from the one build of this run.
 */
export function buildCopy(copy: string): void {
  run('npx', [...PNPM, 'install', '--offline', '--frozen-lockfile', '--ignore-scripts'], { cwd: copy });
  const privates = workspacePackages(copy)
    .filter((p) => p.private)
    .flatMap((p) => ['--filter', `!${p.name}`]);
  const env = { ...process.env, SPARSE_CUDA_SKIP_NATIVE: '1' };
  run('npx', [...PNPM, '-r', ...privates, '--filter', '!@sparse/tools', 'run', 'build'], { cwd: copy, env, timeout: 400_000 });
}

/** Copies the built addon into the per-platform package of the copy, with the script a release uses. */
export function stageAddon(copy: string, binary: string): void {
  run(process.execPath, [join(copy, 'packages', 'cuda-native', 'scripts', 'make-platform-package.mjs'), '--binary', binary], { cwd: copy });
}

/** `changeset version`: consumes .changeset/*.md, bumps versions and writes CHANGELOG.md files. */
export function changesetVersion(copy: string): string {
  return run(process.execPath, [join(import.meta.dirname, 'changeset.mjs'), 'version'], { cwd: copy });
}

/**
 * Publishes every public package of the copy as a release would (pnpm turns workspace:* into the versions), to the
 * registry at `registryUrl`. Without a staged addon the platform package is left out.
 */
export function publishAll(copy: string, env: NodeJS.ProcessEnv, registryUrl: string, withAddon: boolean): string {
  const filter = withAddon ? [] : ['--filter', `!${PLATFORM_PACKAGE}`];
  return run('npx', [...PNPM, 'publish', '-r', '--no-git-checks', ...filter, '--registry', registryUrl], { cwd: copy, env, timeout: 300_000 });
}

export { publicPackages, ROOT };
