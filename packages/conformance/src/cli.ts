#!/usr/bin/env node
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isSparseAttentionError } from '@sparse/core';
import { loadBackend, type ModuleImporter } from '@sparse/core/registry';
import { formatReport, runConformance } from './report.js';

const USAGE = 'usage: sparse-conformance --backend NAME|MODULE [--json] [--filter TEXT|/REGEX/] [--atol X --rtol X --lse-atol X]';

/** Backend packages resolve from the user's project (the current directory) first, then from this package. */
const importer: ModuleImporter = async (spec) => {
  try {
    const resolved = createRequire(join(process.cwd(), 'package.json')).resolve(spec);
    return (await import(pathToFileURL(resolved).href)) as Record<string, unknown>;
  } catch {
    return (await import(spec)) as Record<string, unknown>;
  }
};

function parse(argv: string[]): Map<string, string | true> {
  const flags = new Map<string, string | true>();
  for (let n = 0; n < argv.length; n++) {
    const a = argv[n]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${JSON.stringify(a)}\n${USAGE}`);
    const name = a.slice(2);
    if (name === 'json' || name === 'help') flags.set(name, true);
    else {
      const v = argv[++n];
      if (v === undefined) throw new Error(`--${name} needs a value\n${USAGE}`);
      flags.set(name, v);
    }
  }
  return flags;
}

function tol(flags: Map<string, string | true>, name: string): number | undefined {
  const v = flags.get(name);
  if (v === undefined) return undefined;
  const x = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(x) || x < 0) throw new Error(`--${name} must be a non-negative number (got ${JSON.stringify(v)})`);
  return x;
}

async function main(): Promise<number> {
  const flags = parse(process.argv.slice(2));
  if (flags.has('help')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const spec = flags.get('backend');
  if (typeof spec !== 'string') throw new Error(`--backend is required\n${USAGE}`);
  const filter = flags.get('filter');
  const tolerance = Object.fromEntries(
    Object.entries({ atol: tol(flags, 'atol'), rtol: tol(flags, 'rtol'), lseAtol: tol(flags, 'lse-atol') }).filter(([, v]) => v !== undefined),
  );
  const backend = await loadBackend(spec, { importer });
  const tty = process.stderr.isTTY && !flags.has('json');
  try {
    const report = await runConformance(backend, {
      ...(typeof filter === 'string' ? { filter } : {}),
      tolerance,
      onCase: (o, n, total) => {
        if (tty) process.stderr.write(`\r\x1b[2K[${n + 1}/${total}] ${o.id}`);
      },
    });
    if (tty) process.stderr.write('\r\x1b[2K');
    process.stdout.write(flags.has('json') ? `${JSON.stringify(report, (_, v) => (v === Infinity ? 'Infinity' : v), 2)}\n` : `${formatReport(report)}\n`);
    return report.failed === 0 && report.outcomes.length > 0 ? 0 : 1;
  } finally {
    await backend.dispose();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`sparse-conformance: ${isSparseAttentionError(e) ? `${e.message} [${e.code}]` : (e as Error).message}\n`);
    process.exitCode = 2;
  },
);
