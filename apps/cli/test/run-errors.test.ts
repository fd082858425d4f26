import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeNpy } from '@sparse/core';
import { describe, expect, it } from 'vitest';
import { npyTensor } from './npy.js';

const exec = promisify(execFile);
const MAIN = join(import.meta.dirname, '..', 'dist', 'main.js');
const run = (...args: string[]) =>
  exec(process.execPath, [MAIN, 'run', ...args], { maxBuffer: 1 << 24 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

const tensor = (shape: number[], dtype: 'float32' | 'float64' = 'float32') => npyTensor(shape, 1, dtype);

const dir = mkdtempSync(join(tmpdir(), 'sparse-cli-errors-'));
const file = (name: string) => join(dir, name);
writeFileSync(file('q.npy'), writeNpy(tensor([1, 1, 6, 4])));
writeFileSync(file('k.npy'), writeNpy(tensor([1, 1, 6, 4])));
writeFileSync(file('v.npy'), writeNpy(tensor([1, 1, 6, 4])));

/** The arguments of a run that succeeds, with some replaced. */
function args(over: Record<string, string> = {}): string[] {
  const base: Record<string, string> = {
    '--backend': 'reference',
    '--pattern': '{"kind":"causal"}',
    '--q': file('q.npy'),
    '--k': file('k.npy'),
    '--v': file('v.npy'),
    '--out': file('out.npy'),
  };
  return Object.entries({ ...base, ...over }).flat();
}

/** Bad input: exit 2, one line on stderr ending in the code, no stack trace, nothing on stdout. */
function expectOneLine(r: { code: number; stdout: string; stderr: string }, message: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(/^sparse-attn: [^\n]*\n$/);
  expect(r.stderr).toMatch(message);
  expect(r.stdout).toBe('');
}

describe('sparse-attn run: outputs are all or nothing', () => {
  it('a failed --lse write leaves no --out file behind (and no temporary files)', async () => {
    const out = join(dir, 'all-or-nothing');
    mkdirSync(out);
    const r = await run(...args({ '--out': join(out, 'out.npy'), '--lse': join(out, 'missing-dir', 'lse.npy') }));
    expectOneLine(r, /^sparse-attn: --lse: cannot write .*missing-dir.*lse\.npy \(ENOENT\) \[INVALID_ARGUMENT\]\n$/);
    expect(existsSync(join(out, 'out.npy'))).toBe(false);
    expect(readdirSync(out)).toEqual([]);
  });

  it('refuses --lse naming the same file as --out before computing anything', async () => {
    const r = await run(...args({ '--out': file('same.npy'), '--lse': file('same.npy') }));
    expectOneLine(r, /^sparse-attn: --lse: must be another file than --out .*\[INVALID_ARGUMENT\]\n$/);
    expect(existsSync(file('same.npy'))).toBe(false);
  });

  it('writes both when both can be written', async () => {
    const r = await run(...args({ '--out': file('o.npy'), '--lse': file('l.npy') }));
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(file('o.npy')) && existsSync(file('l.npy'))).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('sparse-attn run: .npy inputs', () => {
  it('refuses a shape written as 1e1 (only decimal integer literals)', async () => {
    const good = Buffer.from(writeNpy(tensor([1, 1, 10, 4])));
    const text = good.toString('latin1');
    expect(text).toContain('(1, 1, 10, 4)');
    writeFileSync(file('k1e1.npy'), Buffer.from(text.replace('(1, 1, 10, 4)', '(1, 1, 1e1, 4)'), 'latin1'));
    writeFileSync(file('v10.npy'), good); // so that reading 1e1 as 10 would make a valid request
    const r = await run(...args({ '--k': file('k1e1.npy'), '--v': file('v10.npy') }));
    expectOneLine(r, /^sparse-attn: --k \(.*k1e1\.npy\)\.shape: .*"1e1".* \[INVALID_ARGUMENT\]\n$/);
  });

  it('refuses float64 values beyond the float32 range, naming the file, the index and the value', async () => {
    const v = tensor([1, 1, 6, 4], 'float64');
    v.data[9] = -1e39; // [0, 0, 2, 1]
    v.data[20] = 5e300;
    writeFileSync(file('v-big.npy'), writeNpy(v));
    const r = await run(...args({ '--v': file('v-big.npy') }));
    expectOneLine(r, /^sparse-attn: --v \(.*v-big\.npy\)\[0, 0, 2, 1\]: .*float32.* \(got -1e\+39\) \[INVALID_ARGUMENT\]\n$/);
  });

  it('accepts NaN and ±Infinity in a float64 file: they are values, not overflow', async () => {
    const v = tensor([1, 1, 6, 4], 'float64');
    v.data[1] = Number.NaN;
    v.data[2] = Number.POSITIVE_INFINITY;
    v.data[3] = Number.NEGATIVE_INFINITY;
    v.data[4] = 3.4028234663852886e38; // the largest float32 is fine
    writeFileSync(file('v-nonfinite.npy'), writeNpy(v));
    const r = await run(...args({ '--v': file('v-nonfinite.npy'), '--out': file('o-nonfinite.npy') }));
    expect(r.code, r.stderr).toBe(0);
  });
});

describe('sparse-attn run: patterns and internal errors', () => {
  it('a pattern nested very deep is one line, exit 2, no stack trace', async () => {
    writeFileSync(file('deep.json'), `${'['.repeat(200_000)}${']'.repeat(200_000)}`);
    const r = await run(...args({ '--pattern': `@${file('deep.json')}` }));
    expectOneLine(r, /\[INVALID_PATTERN\]\n$/);
  });

  it('invalid JSON is one line, exit 2', async () => {
    expectOneLine(await run(...args({ '--pattern': '{"kind":"union","of":[' })), /^sparse-attn: --pattern: is not valid JSON .*\[INVALID_PATTERN\]\n$/);
  });

  it('an error that is not bad input (a backend module that throws) exits 1 with a short message, no stack trace', async () => {
    writeFileSync(
      file('broken-backend.mjs'),
      `export default () => ({
        name: 'broken',
        probe: async () => ({ available: true }),
        supports: () => true,
        attention: async () => { throw new TypeError('cannot read properties of undefined (reading "data")'); },
        dispose: async () => {},
      });\n`,
    );
    const r = await run(...args({ '--backend': file('broken-backend.mjs') }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^sparse-attn: internal error: TypeError: cannot read properties of undefined \(reading "data"\)[^\n]*\n$/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
