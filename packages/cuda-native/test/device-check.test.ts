// The device check without a GPU: the shell script runs each step as its own process up to the first that needs
// a GPU and writes its results as two files (the GPU machine returns at most 8); the GPU steps' own logic (the
// smoke shapes, the split of the golden cases by kernel tier, the merge) runs over the addon model.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { listCases } from '@sparse/conformance';
import { assertClose } from '@sparse/conformance/testing';
import { reference } from '@sparse/core';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain-JS scripts
import { casesOnTier, mergeParts, SMOKE, TIERS } from '../scripts/device-run.mjs';
import { PACKAGE_DIR } from '../src/loader.js';
import { toleranceFor } from '../src/tolerance.js';
import { skipReason } from './addon.js';
import { modelBinding } from './addon-model.js';
import { modelBackend } from './model-backend.js';

describe.skipIf(skipReason !== null)('device-check.sh --no-build without a GPU', () => {
  it('stops at the probe, in separate processes, and writes device-check.json and logs.tar.gz only', () => {
    const root = mkdtempSync(join(tmpdir(), 'sparse-device-'));
    const bundle = join(root, 'bundle');
    mkdirSync(join(bundle, 'node_modules', '@sparse'), { recursive: true });
    for (const name of ['core', 'conformance', 'cuda-native']) symlinkSync(resolve(PACKAGE_DIR, '..', name), join(bundle, 'node_modules', '@sparse', name));
    const out = join(root, 'out');
    const r = spawnSync('bash', [join(PACKAGE_DIR, 'scripts', 'device-check.sh'), '--bundle', bundle, '--no-build'], {
      encoding: 'utf8',
      env: { ...process.env, OUT: out, SPARSE_DEVICE_WORK: join(root, 'work') },
      timeout: 120_000,
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/=== probe \(limit 60 s/);
    expect(r.stdout).toMatch(/no CUDA device/);
    expect(r.stdout).toMatch(/DEVICE CHECK: FAIL/);
    expect(readdirSync(out).sort()).toEqual(['device-check.json', 'logs.tar.gz']);
    const summary = JSON.parse(readFileSync(join(out, 'device-check.json'), 'utf8'));
    expect(summary.pass).toBe(false);
    expect(summary.steps.find((s: { name: string }) => s.name === 'probe')).toMatchObject({ status: 'failed (exit 3)' });
    expect(summary.steps.find((s: { name: string }) => s.name === 'cuda')).toMatchObject({ status: 'skipped' });
    expect(summary.parts.probe.probe.available).toBe(false);
  }, 120_000);
});

describe('device-run steps over the addon model', () => {
  it('the smoke shapes run in every precision and match the reference', async () => {
    for (const precision of ['float32', 'bfloat16', 'float16'] as const) {
      const backend = modelBackend({ precision });
      for (const c of SMOKE as { name: string; content?: boolean; make: () => never }[]) {
        if (c.content && precision !== 'float32') continue;
        const req = c.make();
        const got = await backend.attention(req);
        const want = await reference().attention(req);
        assertClose(got.out.data, want.out.data, toleranceFor(precision, req), `${precision} ${c.name} out`);
      }
      await backend.dispose();
    }
  }, 60_000);

  it('splits the golden cases by the kernel tier the addon picks, each case exactly once per precision', () => {
    const binding = modelBinding();
    for (const precision of ['float32', 'bfloat16']) {
      const split = (TIERS as string[]).map((t) => casesOnTier(binding, precision, t).map((m: { id: string }) => m.id));
      expect(split.flat().sort()).toEqual(
        listCases()
          .map((m) => m.id)
          .sort(),
      );
      if (precision === 'float32') expect(split[0]).toHaveLength(listCases().length);
      else for (const t of [1, 2, 3]) expect(split[t]!.length).toBeGreaterThan(0);
    }
  });

  it('merges parts and step records into one summary', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sparse-parts-'));
    writeFileSync(join(dir, 'probe.json'), '{"probe":{"available":true}}');
    writeFileSync(join(dir, 'steps.jsonl'), '{"name":"probe","status":"ok"}\n{"name":"bench","status":"timed out after 120 s"}\n');
    const s = mergeParts(dir, join(dir, 'steps.jsonl'));
    expect(s.parts.probe.probe.available).toBe(true);
    expect(s.pass).toBe(false);
    expect(s.steps).toHaveLength(2);
  });
});
