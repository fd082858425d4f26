import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import '../registry/provided.js';

/** The packages the consumer projects install from the local registry. */
export const PACKAGES = ['@sparse/core', '@sparse/cpu-wasm', '@sparse/webgpu', '@sparse/tfjs'];

/**
 * A project outside the workspace that installs PACKAGES, at the versions this run published, and `deps` from the
 * local registry of the run (which proxies the public one). The directory is kept between runs (one per name under
 * `base`) and reinstalled only when the dependencies or what was published of PACKAGES change; npm's own cache
 * serves the rest.
 */
export function installProject(base: string, name: string, deps: Record<string, string>): string {
  const { url } = inject('registry');
  const { versions, integrity } = inject('rehearsal');
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true });
  const dependencies: Record<string, string> = { ...deps };
  for (const pkg of PACKAGES) dependencies[pkg] = versions[pkg]!;
  const stamp = createHash('sha256')
    .update(JSON.stringify([dependencies, PACKAGES.map((pkg) => integrity[pkg])]))
    .digest('hex');
  const stampFile = join(dir, '.installed');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return dir;
  // A release keeps its version when its contents change, and the lock file names a registry of an earlier run.
  rmSync(join(dir, 'package-lock.json'), { force: true });
  rmSync(join(dir, 'node_modules', '@sparse'), { recursive: true, force: true });
  rmSync(stampFile, { force: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${name}`, private: true, type: 'module', dependencies }, null, 2));
  execFileSync('npm', ['install', `--@sparse:registry=${url}/`, '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'pipe', timeout: 240_000 });
  writeFileSync(stampFile, stamp);
  return dir;
}
