// The resident entry point end to end on a real GPU (scripts/resident-checks.mjs, also run by the device
// check): round trips, device casts against the host's rounding, bit-identity with the host path, given
// out/lse, mixed host and resident operands, chained layers, call ordering, typed errors, and that dispose
// frees every tensor. Without a GPU the suite is skipped with the probe's reason; SPARSE_CUDA_REQUIRE_DEVICE=1
// (the device check) makes a missing device a failure.
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain-JS module shared with scripts/device-run.mjs
import { runResidentChecks } from '../scripts/resident-checks.mjs';
import { cudaNative, loadBinding, viaResident } from '../src/index.js';

const probe = await cudaNative().probe();
const required = process.env.SPARSE_CUDA_REQUIRE_DEVICE === '1';

describe.skipIf(!probe.available && !required)(`resident tensors on the GPU${probe.available ? '' : ` (skipped: ${probe.reason})`}`, () => {
  it('has a CUDA device', () => {
    expect(probe.available, probe.reason).toBe(true);
  });

  it('passes every resident check in float32, bf16 and f16', async () => {
    const nativeTensors = async () => {
      const loaded = await loadBinding({ isolate: false });
      return loaded.ok ? loaded.binding.tensorCount() : 0;
    };
    const results = (await runResidentChecks(cudaNative, viaResident, { nativeTensors })) as { name: string; ok: boolean; error?: string }[];
    const failed = results.filter((r) => !r.ok);
    expect(failed.map((r) => `${r.name}: ${r.error}`)).toEqual([]);
    expect(results.length).toBe(27);
  }, 300_000);
});
