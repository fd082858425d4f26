// The host conversions of the addon (native/convert.cc: float32 <-> bf16 / f16, round to nearest even) are
// compiled with the system C++ compiler into a small program that checks all 65536 values of each type
// round-trip, with a few spot values. The device cast kernel is checked against them on a GPU
// (scripts/resident-checks.mjs).
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_DIR } from '../src/loader.js';
import { skipReason } from './addon.js';

describe.skipIf(skipReason !== null)(`host conversions${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  it('bf16 and f16 round-trip every value exactly', () => {
    const exe = join(mkdtempSync(join(tmpdir(), 'sparse-convert-')), 'roundtrip');
    execFileSync(process.env.CXX ?? 'g++', [
      '-O1',
      '-std=c++17',
      join(PACKAGE_DIR, 'test/native/convert-roundtrip.cc'),
      join(PACKAGE_DIR, 'native/convert.cc'),
      '-o',
      exe,
    ]);
    const out = execFileSync(exe, { encoding: 'utf8' });
    expect(out).toContain('1 5.96046e-08 -2 65504');
    expect(out).toContain('bad=0');
  }, 60_000);
});
