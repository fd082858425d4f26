import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  type AttentionRequest,
  type HostTensor,
  isSparseAttentionError,
  type Layout,
  npyToFloat32,
  type Pattern,
  parsePattern,
  readNpy,
  SparseAttentionError,
  writeNpy,
} from '@sparse/core';
import { planAttention } from '@sparse/core/backend';
import { checkFlags, intFlag, numberFlag, type ParsedArgs, requiredFlag, stringFlag } from '../args.js';
import { openBackend } from '../backends.js';
import { writeAllOrNothing } from '../output-files.js';

export const RUN_USAGE = `sparse-attn run --backend NAME --pattern JSON|@file --q q.npy --k k.npy --v v.npy --out out.npy
                [--lse lse.npy] [--scale X] [--query-offset N] [--layout bhsd|bshd]`;

async function readBytes(path: string, field: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new SparseAttentionError('INVALID_ARGUMENT', `${field}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      field,
    });
  }
}

async function readTensor(path: string, field: string): Promise<HostTensor> {
  const arr = readNpy(await readBytes(path, field), `${field} (${path})`);
  return { data: npyToFloat32(arr, `${field} (${path})`), shape: arr.shape };
}

/** A pattern given inline as JSON, or as @file holding JSON (a pattern or an array of per-head patterns). */
export async function readPatternArg(text: string): Promise<Pattern | Pattern[]> {
  const json = text.startsWith('@') ? new TextDecoder().decode(await readBytes(text.slice(1), '--pattern')) : text;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (e) {
    throw new SparseAttentionError('INVALID_PATTERN', `--pattern: is not valid JSON (${(e as Error).message})`, { field: '--pattern' });
  }
  try {
    return Array.isArray(value) ? value.map((p, h) => parsePattern(p, `pattern[${h}]`)) : parsePattern(value);
  } catch (e) {
    if (isSparseAttentionError(e)) throw e;
    // Whatever the data does to the parser (a nesting deep enough to exhaust the stack, …) is still bad input.
    throw new SparseAttentionError('INVALID_PATTERN', `--pattern: cannot be read as a pattern (${(e as Error).message})`, { field: '--pattern', cause: e });
  }
}

export async function runCommand(args: ParsedArgs): Promise<void> {
  checkFlags(args, ['backend', 'pattern', 'q', 'k', 'v', 'out', 'lse', 'scale', 'query-offset', 'layout'], 'run');
  const layout = (stringFlag(args, 'layout') ?? 'bhsd') as Layout;
  if (layout !== 'bhsd' && layout !== 'bshd')
    throw new SparseAttentionError('INVALID_ARGUMENT', `--layout: must be bhsd or bshd (got ${JSON.stringify(layout)})`, { field: '--layout' });
  const backendName = requiredFlag(args, 'backend', 'run');
  const pattern = await readPatternArg(requiredFlag(args, 'pattern', 'run'));
  const outPath = requiredFlag(args, 'out', 'run');
  const lsePath = stringFlag(args, 'lse');
  if (lsePath !== undefined && resolve(lsePath) === resolve(outPath))
    throw new SparseAttentionError('INVALID_ARGUMENT', `--lse: must be another file than --out (got ${JSON.stringify(lsePath)})`, { field: '--lse' });
  const request: AttentionRequest = {
    q: await readTensor(requiredFlag(args, 'q', 'run'), '--q'),
    k: await readTensor(requiredFlag(args, 'k', 'run'), '--k'),
    v: await readTensor(requiredFlag(args, 'v', 'run'), '--v'),
    pattern,
    layout,
    returnLse: lsePath !== undefined,
  };
  const scale = numberFlag(args, 'scale');
  if (scale !== undefined) request.scale = scale;
  const offset = intFlag(args, 'query-offset', undefined, -(2 ** 31));
  if (offset !== undefined) request.queryOffset = offset;

  planAttention(request); // core validates before any backend runs (typed errors naming the field)
  const backend = await openBackend(backendName);
  try {
    const probe = await backend.probe();
    if (!probe.available)
      throw new SparseAttentionError('BACKEND_UNAVAILABLE', `--backend: ${backendName} is not available here: ${probe.reason ?? 'no reason given'}`, {
        field: '--backend',
      });
    const ok = backend.supports(request);
    if (ok !== true) throw new SparseAttentionError('UNSUPPORTED', `${backendName}: ${ok}`);
    const result = await backend.attention(request);
    const npy = (t: HostTensor) => writeNpy({ dtype: 'float32', shape: [...t.shape], data: t.data });
    await writeAllOrNothing([
      { path: outPath, bytes: npy(result.out), field: '--out' },
      ...(lsePath && result.lse ? [{ path: lsePath, bytes: npy(result.lse), field: '--lse' }] : []),
    ]);
    process.stdout.write(
      `wrote ${outPath} ${JSON.stringify(result.out.shape)}${lsePath ? ` and ${lsePath} ${JSON.stringify(result.lse?.shape)}` : ''} (${backend.name})\n`,
    );
  } finally {
    await backend.dispose();
  }
}
