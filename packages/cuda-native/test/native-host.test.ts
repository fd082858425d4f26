// Host code of the addon compiled with the system C++ compiler against fakes of the CUDA runtime calls it makes
// (test/native/*.cc): the once-per-device shared memory limit under concurrent launches, and that the staged
// q, k, v of a call survive until the stream is synchronised. AddressSanitizer catches a freed staging buffer.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_DIR } from '../src/loader.js';
import { skipReason } from './addon.js';

const cuda = process.env.CUDA_HOME ?? '/usr/local/cuda';
const src = (f: string) => join(PACKAGE_DIR, f);

function build(name: string, files: string[], extra: string[] = []): string {
  const exe = join(mkdtempSync(join(tmpdir(), `sparse-${name}-`)), name);
  execFileSync(process.env.CXX ?? 'g++', ['-std=c++17', '-O1', '-pthread', `-I${join(cuda, 'include')}`, ...files.map(src), '-o', exe, ...extra]);
  return exe;
}

describe.skipIf(skipReason !== null || !existsSync(join(cuda, 'include', 'cuda_runtime_api.h')))('native host code', () => {
  it('raises each kernel shared memory limit once per device, and racing launches never see it lowered', () => {
    const exe = build('smem-race', ['test/native/smem-limit-race.cc', 'native/smem_limit.cc'], [`-L${join(cuda, 'lib64')}`, '-lcudart_static', '-ldl', '-lrt']);
    expect(execFileSync(exe, { encoding: 'utf8' })).toContain('pairs=6 wrong=0 badLaunch=0 errors=0');
  }, 120_000);

  it('keeps each staged operand until the stream is synchronised', () => {
    const exe = build('staging', ['test/native/staging-upload.cc', 'native/run.cc', 'native/convert.cc'], ['-fsanitize=address']);
    expect(execFileSync(exe, { encoding: 'utf8' })).toContain('q=ok k=ok v=ok');
  }, 120_000);
});
