// The resident JS layer (src/resident.ts, src/tensor.ts, viaResident) run through the device checks of
// scripts/resident-checks.mjs with the addon replaced by its JavaScript model (addon-model.ts). This pins the
// JS side — ownership, ordering of calls made without await, out/lse handling, cast and dispose bookkeeping —
// and the check script itself on machines without a GPU; the same checks run on the real addon in
// test/resident-device.test.ts and in the device check.

import { describeConformance } from '@sparse/conformance/vitest';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain-JS module shared with scripts/device-run.mjs
import { runResidentChecks } from '../scripts/resident-checks.mjs';
import type { CudaNativeOptions } from '../src/options.js';
import { viaResident } from '../src/via-resident.js';
import { modelBinding } from './addon-model.js';
import { modelBackend } from './model-backend.js';
import { roundBf16, roundF16 } from './rounding.js';

const tensor = (shape: number[], seed: number) => ({
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.7 + seed)),
  shape,
});

describe('resident JS layer over the addon model', () => {
  it('rounds like the addon: bf16 and f16 round to nearest even', () => {
    expect(roundBf16(1 + 2 ** -8)).toBe(1); // a tie goes to even
    expect(roundBf16(1 + 3 * 2 ** -8)).toBe(1 + 2 ** -6);
    expect(roundF16(1 + 2 ** -11)).toBe(1);
    expect(roundF16(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9);
    expect(roundF16(65504)).toBe(65504);
    expect(roundF16(70000)).toBe(Infinity);
    expect(roundF16(2 ** -24)).toBe(2 ** -24);
  });

  it('backend.dispose() lets a call made before it finish, then frees every tensor, also those that call made', async () => {
    const binding = modelBinding();
    const b = modelBackend({}, binding);
    const req = { q: tensor([1, 2, 40, 16], 1), k: tensor([1, 1, 40, 16], 2), v: tensor([1, 1, 40, 16], 3), pattern: { kind: 'causal' } as const };
    const q = await b.upload(req.q);
    const kept = await b.upload(req.k);
    const queued = b.attentionResident({ ...req, q, returnLse: true }); // allocates out and lse once it runs
    const disposing = b.dispose();
    const made = await queued; // calls made before dispose() finish (the kit's dispose)
    await disposing;
    expect(q.disposed && kept.disposed && made.out.disposed && made.lse!.disposed).toBe(true);
    expect(b.liveTensors()).toBe(0);
    expect(binding.tensorCount()).toBe(0);
    await expect(b.download(kept)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', field: 'backend' });
    await expect(b.upload(req.q)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', field: 'backend' });
    await expect(b.attentionResident({ ...req, q })).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', field: 'backend' });
    await kept.dispose(); // a tensor's own dispose() stays a no-op
  });

  it('passes every resident check in float32, bf16 and f16', async () => {
    // One model binding shared by every backend, as the addon is shared by a process: its count is process-wide.
    const binding = modelBinding();
    const make = (options: CudaNativeOptions) => modelBackend(options, binding);
    const results = (await runResidentChecks(make, viaResident, { nativeTensors: () => binding.tensorCount() })) as {
      name: string;
      ok: boolean;
      error?: string;
    }[];
    expect(results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.error}`)).toEqual([]);
    expect(results.length).toBe(27);
  }, 120_000);
});

// Every golden case through upload / attentionResident / download over the model: the packing of resident
// operands for every layout, GQA, Sq != Sk, Dv != D and content-based case.
describeConformance({
  name: 'resident JS layer over the addon model',
  create: () => viaResident(modelBackend()),
  requireAvailable: true,
});
