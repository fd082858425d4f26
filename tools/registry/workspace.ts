import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const PNPM = ['-y', 'pnpm@10.34.9'];

export interface WorkspacePackage {
  name: string;
  version: string;
  /** Relative to the repository root. */
  dir: string;
  private: boolean;
}

/** The packages under packages/ and apps/ of the repository at `root`. */
export function workspacePackages(root = ROOT): WorkspacePackage[] {
  const out: WorkspacePackage[] = [];
  for (const group of ['packages', 'apps']) {
    for (const name of readdirSync(join(root, group)).sort()) {
      const file = join(root, group, name, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8'));
      out.push({ name: pkg.name, version: pkg.version, dir: `${group}/${name}`, private: pkg.private === true });
    }
  }
  return out;
}

export const publicPackages = (root = ROOT): WorkspacePackage[] => workspacePackages(root).filter((p) => !p.private);

/** Runs a command, and on failure throws with its output (execFileSync's own message drops it). */
export function run(cmd: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }): string {
  try {
    return execFileSync(cmd, args, { ...options, encoding: 'utf8', stdio: 'pipe', timeout: options.timeout ?? 240_000 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    const output = `${err.stdout ?? ''}\n${err.stderr ?? err.message}`
      .split('\n')
      .filter((line) => !line.startsWith('npm notice'))
      .join('\n');
    throw new Error(`${cmd} ${args.join(' ')} failed in ${options.cwd}:\n${output.slice(-6000)}`);
  }
}
