import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A project outside the workspace that installs the tarballs and `deps` from npm. The directory is kept between
 * runs (one per name under `base`) and reinstalled only when the tarballs' contents or the dependencies change; npm's
 * own cache serves the rest.
 */
export function installProject(base: string, name: string, tarballs: Record<string, string>, deps: Record<string, string>): string {
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true });
  const hash = createHash('sha256').update(JSON.stringify(deps));
  for (const file of Object.values(tarballs).sort()) hash.update(readFileSync(file));
  const stamp = hash.digest('hex');
  const stampFile = join(dir, '.installed');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return dir;
  // The tarballs keep their names when their contents change: drop what npm recorded for them.
  rmSync(join(dir, 'package-lock.json'), { force: true });
  rmSync(join(dir, 'node_modules', '@sparse'), { recursive: true, force: true });
  const dependencies: Record<string, string> = { ...deps };
  for (const [pkg, file] of Object.entries(tarballs)) dependencies[pkg] = `file:${file}`;
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${name}`, private: true, type: 'module', dependencies }, null, 2));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'pipe', timeout: 240_000 });
  writeFileSync(stampFile, stamp);
  return dir;
}
