// Loading: the binary is first loaded in a child process, so a broken or crashing build fails that child and
// comes back as a reason, never taking the caller down.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILD_COMMAND, buildStatusReason, candidateBinaries, checkInChild, LOCAL_BINARY, loadBinding, platformTag } from '../src/loader.js';
import { skipReason } from './addon.js';

const tmp = mkdtempSync(join(tmpdir(), 'cuda-native-loader-'));
const hasCc = spawnSync('cc', ['--version']).status === 0;

describe('loader', () => {
  it('names the per-platform package like onnxruntime-node / node-llama-cpp', () => {
    expect(platformTag()).toMatch(/^(linux-(x64|arm64)-(gnu|musl)|darwin-\w+|win32-\w+)$/);
    expect(candidateBinaries('/nowhere/x.node')).toEqual([{ path: '/nowhere/x.node', source: 'the binaryPath option' }]);
    expect(candidateBinaries()[0]).toEqual({ path: LOCAL_BINARY, source: 'the local build' });
  });

  it('explains how to build when there is no binary', async () => {
    expect(buildStatusReason()).toContain(BUILD_COMMAND);
    const out = await loadBinding({ binaryPath: join(tmp, 'missing.node') });
    expect(out).toMatchObject({ ok: false, reason: expect.stringMatching(/does not exist/) });
  });

  it('rejects a file that is not a loadable addon, in the child', async () => {
    const junk = join(tmp, 'junk.node');
    writeFileSync(junk, 'not an ELF file');
    const check = await checkInChild(junk, 0);
    expect(check.ok).toBe(false);
    expect(check.reason).toMatch(/failed to load in a child process.*exited with code/);
    const out = await loadBinding({ binaryPath: junk });
    expect(out.ok).toBe(false);
  });

  it.skipIf(!hasCc)('survives a binary that aborts the process while loading', async () => {
    const src = join(tmp, 'crash.c');
    const lib = join(tmp, 'crash.node');
    writeFileSync(src, '#include <stdlib.h>\n__attribute__((constructor)) static void boom(void) { abort(); }\n');
    expect(spawnSync('cc', ['-shared', '-fPIC', '-o', lib, src]).status).toBe(0);
    const out = await loadBinding({ binaryPath: lib });
    expect(out.ok).toBe(false);
    expect((out as { reason: string }).reason).toMatch(/died with SIGABRT/);
  });

  it.skipIf(skipReason !== null)('loads the real build in a child, which probes and reports no CUDA device', async () => {
    const check = await checkInChild(LOCAL_BINARY, 0);
    expect(check.ok).toBe(true);
    expect(check.probe?.available).toBe(false);
    expect(check.probe?.reason).toMatch(/no CUDA device/);
    expect(check.buildInfo?.archs).toBe('80,86,89,90');
  });
});
