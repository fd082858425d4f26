import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const PNPM = ['-y', 'pnpm@10.34.9'];
/** The packages the consumer projects install from their packed tarballs. */
export const PACKAGES = ['@sparse/core', '@sparse/cpu-wasm', '@sparse/webgpu', '@sparse/tfjs'];

/** `pnpm pack` of the built workspace packages (workspace:* becomes the real version) into `dir`: name → tarball. */
export function packPackages(names: string[], dir: string): Record<string, string> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const tarballs: Record<string, string> = {};
  for (const name of names) {
    const before = new Set(readdirSync(dir));
    execFileSync('npx', [...PNPM, 'pack', '--pack-destination', dir], { cwd: join(ROOT, 'packages', name.replace('@sparse/', '')), stdio: 'pipe' });
    const made = readdirSync(dir).find((f) => !before.has(f));
    if (!made) throw new Error(`pnpm pack of ${name} wrote no tarball`);
    tarballs[name] = join(dir, made);
  }
  return tarballs;
}
