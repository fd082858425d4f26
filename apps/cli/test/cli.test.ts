import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { maxAbsDiff } from '@sparse/conformance/testing';
import { local, readNpy, writeNpy } from '@sparse/core';
import { referenceAttention } from '@sparse/core/reference';
import { describe, expect, it } from 'vitest';
import { npyTensor } from './npy.js';

const exec = promisify(execFile);
const MAIN = join(import.meta.dirname, '..', 'dist', 'main.js');
const cli = (...args: string[]) => exec(process.execPath, [MAIN, ...args], { maxBuffer: 1 << 24 });
const fails = (...args: string[]) =>
  cli(...args).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

const dir = mkdtempSync(join(tmpdir(), 'sparse-cli-'));
const file = (name: string) => join(dir, name);
writeFileSync(file('q.npy'), writeNpy(npyTensor([1, 2, 9, 4], 1)));
writeFileSync(file('k.npy'), writeNpy(npyTensor([1, 1, 12, 4], 2)));
writeFileSync(file('v.npy'), writeNpy(npyTensor([1, 1, 12, 3], 3, 'float64')));

describe('sparse-attn run', () => {
  it('computes attention from .npy files (float64 accepted) and writes float32 out and lse', async () => {
    const r = await cli(
      'run',
      '--backend',
      'reference',
      '--pattern',
      '{"kind":"local","left":2,"right":1}',
      '--q',
      file('q.npy'),
      '--k',
      file('k.npy'),
      '--v',
      file('v.npy'),
      '--out',
      file('out.npy'),
      '--lse',
      file('lse.npy'),
      '--scale',
      '0.7',
    );
    expect(r.stdout).toMatch(/^wrote .*out\.npy \[1,2,9,3\] and .*lse\.npy \[1,2,9\] \(reference\)/);
    const out = readNpy(new Uint8Array(readFileSync(file('out.npy'))));
    expect(out.dtype).toBe('float32');
    const v = npyTensor([1, 1, 12, 3], 3);
    const want = referenceAttention({
      q: { data: npyTensor([1, 2, 9, 4], 1).data as Float32Array, shape: [1, 2, 9, 4] },
      k: { data: npyTensor([1, 1, 12, 4], 2).data as Float32Array, shape: [1, 1, 12, 4] },
      v: { data: Float32Array.from(v.data), shape: v.shape },
      pattern: local(2, 1),
      scale: 0.7,
    });
    expect(maxAbsDiff(out.data, want.out.data)).toBeLessThan(1e-6);
    expect(readNpy(new Uint8Array(readFileSync(file('lse.npy')))).shape).toEqual([1, 2, 9]);
  });
  it('reads a pattern from @file, with per-head patterns and bshd layout', async () => {
    writeFileSync(file('p.json'), JSON.stringify([{ kind: 'causal' }, { kind: 'dense' }]));
    writeFileSync(file('qs.npy'), writeNpy(npyTensor([1, 9, 2, 4], 1)));
    writeFileSync(file('ks.npy'), writeNpy(npyTensor([1, 12, 1, 4], 2)));
    writeFileSync(file('vs.npy'), writeNpy(npyTensor([1, 12, 1, 3], 3)));
    const r = await cli(
      'run',
      '--backend',
      'reference',
      '--pattern',
      `@${file('p.json')}`,
      '--layout',
      'bshd',
      '--query-offset',
      '0',
      '--q',
      file('qs.npy'),
      '--k',
      file('ks.npy'),
      '--v',
      file('vs.npy'),
      '--out',
      file('o2.npy'),
    );
    expect(r.stdout).toMatch(/\[1,9,2,3\]/);
  });
  const bad: [string, string[], RegExp][] = [
    ['a missing input file', ['--q', 'nope.npy'], /^sparse-attn: --q: cannot read nope\.npy \(ENOENT\) \[INVALID_ARGUMENT\]\n$/],
    ['a pattern that is not JSON', ['--pattern', '{kind:'], /^sparse-attn: --pattern: is not valid JSON .*\[INVALID_PATTERN\]\n$/],
    [
      'an unknown pattern kind',
      ['--pattern', '{"kind":"window"}'],
      /^sparse-attn: pattern\.kind: unknown pattern kind.*\(got "window"\) \[INVALID_PATTERN\]\n$/,
    ],
    ['a NaN scale', ['--scale', 'NaN'], /^sparse-attn: --scale: must be a finite number \(got "NaN"\) \[INVALID_ARGUMENT\]\n$/],
    ['mismatched shapes', ['--k', 'V'], /^sparse-attn: k\.shape\[3\]: head dim must equal q's \(4\) \(got 3\) \[INVALID_SHAPE\]\n$/],
    ['an unknown backend', ['--backend', 'fpga'], /^sparse-attn: backend "fpga": cannot import fpga.* \[BACKEND_UNAVAILABLE\]\n$/],
    ['an unknown option', ['--colour', 'red'], /^sparse-attn: --colour: unknown option for "run"/],
    ['a file that is not .npy', ['--v', 'P'], /^sparse-attn: --v \(.*p\.json\): is not a NumPy \.npy file/],
  ];
  for (const [what, override, message] of bad) {
    it(`exits 2 with one line and no stack trace on ${what}`, async () => {
      const args: Record<string, string> = {
        '--backend': 'reference',
        '--pattern': '{"kind":"causal"}',
        '--q': file('q.npy'),
        '--k': file('k.npy'),
        '--v': file('v.npy'),
        '--out': file('x.npy'),
      };
      for (let n = 0; n < override.length; n += 2)
        args[override[n]!] = override[n + 1] === 'V' ? file('v.npy') : override[n + 1] === 'P' ? file('p.json') : override[n + 1]!;
      const r = await fails('run', ...Object.entries(args).flat());
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }
});

describe('sparse-attn backends', () => {
  it('lists every known backend with its probe result', async () => {
    const { stdout } = await cli('backends', '--json');
    const list = JSON.parse(stdout) as { name: string; available: boolean; reason?: string }[];
    expect(list.map((b) => b.name)).toEqual(['reference', 'cpu-wasm', 'webgpu', 'cuda-native', 'tfjs']);
    expect(list[0]!.available).toBe(true);
    for (const b of list.filter((x) => !x.available)) expect(b.reason).toBeTruthy();
    const text = await cli('backends');
    expect(text.stdout).toMatch(/^reference\s+available/m);
  });
});

describe('sparse-attn pattern show', () => {
  it('draws small patterns as text with statistics', async () => {
    const { stdout } = await cli('pattern', 'show', '{"kind":"dilated","dilation":2}', '--sq', '5');
    expect(stdout.split('\n').slice(0, 5)).toEqual(['█·█·█', '·█·█·', '█·█·█', '·█·█·', '█·█·█']);
    expect(stdout).toMatch(/allowed pairs \(nnz\) 13 {2}density 52\.00%/);
  });
  it('draws large patterns per block and writes a PNG', async () => {
    const { stdout } = await cli(
      'pattern',
      'show',
      '{"kind":"union","of":[{"kind":"local","left":256,"right":256},{"kind":"global","tokens":[0]}]}',
      '--sq',
      '16384',
      '--png',
      file('m.png'),
    );
    expect(stdout).toMatch(/# full block {2}\+ partial block {2}\. skipped/);
    expect(stdout).toMatch(/blocks: \d+ full, \d+ partial, \d+ skipped of 65536/);
    const png = readFileSync(file('m.png'));
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.readUInt32BE(16)).toBe(512); // width: 256 blocks of 64 keys, 2 pixels each
  });
  it('rejects a pattern that does not fit the sizes', async () => {
    const r = await fails('pattern', 'show', '{"kind":"global","tokens":[40]}', '--sq', '10');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/pattern\.tokens\[0\]: a global token \(a key position\) must be < 10 \(got 40\)/);
  });
});

describe('sparse-attn demo', () => {
  it('runs the Longformer demo on the available backends and checks them against the reference', async () => {
    const { stdout } = await cli('demo', '--n', '2048', '--heads', '1', '--window', '128', '--dense-rows', '256');
    expect(stdout).toMatch(/^reference\s+\d+\.\d+ s\s+\d+\.\d+\s+\d+\.\d+ s\*\s+\d+\.\d+×\s+ok/m);
  });
});
