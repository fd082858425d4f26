import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Registry } from '../../registry/verdaccio.js';
import { PNPM, run } from '../../registry/workspace.js';

const PROJECT = join(import.meta.dirname, 'project');

/** A fresh project in the system's temp dir (outside the workspace) with the files of project/ and `deps`. */
function newProject(name: string, deps: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), `sparse-consumer-${name}-`));
  cpSync(PROJECT, dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: `consumer-${name}`, private: true, type: 'module', dependencies: deps }, null, 2)}\n`);
  return dir;
}

/** `npm install` from the local registry, as a user runs it. */
export function npmProject(registry: Registry, name: string, deps: Record<string, string>): string {
  const dir = newProject(name, deps);
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, env: registry.env, timeout: 280_000 });
  return dir;
}

/** `pnpm install` from the local registry: its strict node_modules catches a dependency a package forgot to declare. */
export function pnpmProject(registry: Registry, name: string, deps: Record<string, string>): string {
  const dir = newProject(name, deps);
  run('npx', [...PNPM, 'install', '--store-dir', join(registry.dir, 'pnpm-store'), '--reporter=append-only'], {
    cwd: dir,
    env: registry.env,
    timeout: 280_000,
  });
  return dir;
}
