// The build scripts: the skip path without nvcc (exit 0, a message, a status probe() can read) and the ptxas
// spill check.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without types
import { kernelName, parsePtxas } from '../scripts/check-ptxas.mjs';
import { PACKAGE_DIR } from '../src/loader.js';
import { skipReason } from './addon.js';

const SAMPLE = `ptxas info    : Compiling entry function '_ZN6sparse3mma7attnMmaI13__nv_bfloat16Li128EEEvNS_10AttnParamsE' for 'sm_90'
ptxas info    : Function properties for _ZN6sparse3mma7attnMmaI13__nv_bfloat16Li128EEEvNS_10AttnParamsE
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 202 registers, used 1 barriers
ptxas info    : Compiling entry function '_ZN6sparse45_GLOBAL__N__x_12_attn_simt_cu_y8attnSimtIfEEvNS_10AttnParamsE' for 'sm_86'
ptxas info    : Function properties for _ZN6sparse45_GLOBAL__N__x_12_attn_simt_cu_y8attnSimtIfEEvNS_10AttnParamsE
    32 bytes stack frame, 32 bytes spill stores, 56 bytes spill loads
ptxas info    : Used 128 registers, used 1 barriers, 32 bytes cumulative stack size
`;

describe('check-ptxas', () => {
  it('parses registers and spills per kernel and architecture', () => {
    const rows = parsePtxas(SAMPLE) as { kernel: string; arch: string; registers: number; spillStores: number; spillLoads: number }[];
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ kernel: 'attnMma<bf16, 128>', arch: 'sm_90', registers: 202, spillStores: 0, spillLoads: 0 });
    expect(rows[1]).toMatchObject({ kernel: 'attnSimt<f32>', arch: 'sm_86', registers: 128, spillStores: 32, spillLoads: 56 });
    expect(kernelName('_ZN6sparse3mma7attnMmaI6__halfLi64EEEvNS_10AttnParamsE')).toBe('attnMma<f16, 64>');
  });

  it.skipIf(skipReason !== null)('passes on this build: no kernel spills registers', () => {
    const r = spawnSync(process.execPath, [join(PACKAGE_DIR, 'scripts', 'check-ptxas.mjs'), '--require'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/check-ptxas: OK — no register spills in \d+ kernel builds \(the 15 main kernels listed × 4 archs, and the helpers\)/);
  });
});

describe('build-native without nvcc', () => {
  it.skipIf(existsSync('/usr/bin/nvcc') || existsSync('/bin/nvcc'))('skips with exit 0, says how to build, and records why', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cuda-native-skip-'));
    const env: Record<string, string> = { PATH: '/usr/bin:/bin', SPARSE_CUDA_BUILD_DIR: dir, HOME: process.env.HOME ?? '/tmp' };
    const r = spawnSync(process.execPath, [join(PACKAGE_DIR, 'scripts', 'build-native.mjs')], { encoding: 'utf8', env });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/native addon NOT built: nvcc \(the CUDA compiler\) was not found/);
    expect(r.stdout).toMatch(/npx sparse-cuda-build/);
    const status = JSON.parse(readFileSync(join(dir, 'native-status.json'), 'utf8'));
    expect(status).toMatchObject({ built: false, reason: expect.stringMatching(/nvcc/) });
    expect(existsSync(join(dir, 'Release'))).toBe(false);
  });

  it('skips on request (SPARSE_CUDA_SKIP_NATIVE=1)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cuda-native-skip-'));
    const r = spawnSync(process.execPath, [join(PACKAGE_DIR, 'scripts', 'build-native.mjs')], {
      encoding: 'utf8',
      env: { ...process.env, SPARSE_CUDA_SKIP_NATIVE: '1', SPARSE_CUDA_BUILD_DIR: dir },
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'native-status.json'), 'utf8'))).toMatchObject({ built: false, reason: 'SPARSE_CUDA_SKIP_NATIVE=1 is set' });
  });
});
