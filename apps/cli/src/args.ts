import { SparseAttentionError } from '@sparse/core';

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
}

/** `--name value`, `--name=value` and bare `--flag` (when `booleans` lists it). */
export function parseArgs(argv: string[], booleans: readonly string[] = []): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let n = 0; n < argv.length; n++) {
    const a = argv[n]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (eq >= 0) flags.set(name, a.slice(eq + 1));
    else if (booleans.includes(name)) flags.set(name, true);
    else {
      const value = argv[n + 1];
      if (value === undefined) throw new SparseAttentionError('INVALID_ARGUMENT', `--${name}: needs a value`, { field: `--${name}` });
      flags.set(name, value);
      n++;
    }
  }
  return { positional, flags };
}

export function checkFlags(args: ParsedArgs, allowed: readonly string[], command: string): void {
  for (const name of args.flags.keys()) {
    if (!allowed.includes(name)) {
      throw new SparseAttentionError('INVALID_ARGUMENT', `--${name}: unknown option for "${command}" (options: ${allowed.map((a) => `--${a}`).join(', ')})`, {
        field: `--${name}`,
      });
    }
  }
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  if (v === true) throw new SparseAttentionError('INVALID_ARGUMENT', `--${name}: needs a value`, { field: `--${name}` });
  return v;
}

export function requiredFlag(args: ParsedArgs, name: string, command: string): string {
  const v = stringFlag(args, name);
  if (v === undefined) throw new SparseAttentionError('INVALID_ARGUMENT', `--${name}: is required by "${command}"`, { field: `--${name}` });
  return v;
}

export function intFlag(args: ParsedArgs, name: string, fallback?: number, min = 1): number | undefined {
  const v = stringFlag(args, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(n) || n < min)
    throw new SparseAttentionError('INVALID_ARGUMENT', `--${name}: must be an integer >= ${min} (got ${JSON.stringify(v)})`, { field: `--${name}` });
  return n;
}

export function numberFlag(args: ParsedArgs, name: string): number | undefined {
  const v = stringFlag(args, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n))
    throw new SparseAttentionError('INVALID_ARGUMENT', `--${name}: must be a finite number (got ${JSON.stringify(v)})`, { field: `--${name}` });
  return n;
}
