import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}

/**
 * Source maps in a tarball whose sources a user's debugger or editor cannot open: every source of every .map must
 * be inlined (sourcesContent) or be a file of the package. Returns one line per such source.
 */
export function brokenSourceMaps(tgz: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'sparse-maps-'));
  try {
    execFileSync('tar', ['-xzf', tgz, '-C', dir]);
    const root = join(dir, 'package');
    const broken: string[] = [];
    for (const file of walk(root)) {
      if (!file.endsWith('.map')) continue;
      const map = JSON.parse(readFileSync(file, 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[]; sourceRoot?: string };
      map.sources.forEach((source, n) => {
        if (typeof map.sourcesContent?.[n] === 'string') return;
        if (existsSync(resolve(dirname(file), map.sourceRoot ?? '', source))) return;
        broken.push(`${relative(root, file)}: ${source} is neither inlined nor in the package`);
      });
    }
    return broken;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
