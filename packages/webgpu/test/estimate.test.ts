import { makeRequest } from '@sparse/conformance/testing';
import { describe, expect, it } from 'vitest';
import { mismatch } from './support/data.js';
import { limitedBackends, probeGpu } from './support/gpu.js';

const gpu = await probeGpu();

describe.skipIf(!gpu.available)('supports() and attention() use one resource estimate', () => {
  const make = limitedBackends();
  // Dilation by partition runs 4 residue groups of 100 rows with local(8, 8): a query block there spans far fewer
  // keys than one of the whole dilated request.
  const dilated = makeRequest({ Sq: 400, D: 8 }, { kind: 'dilated', dilation: 4, left: 8, right: 8 });

  it('refuses a request for size with the same sentence in both (dilation by partition)', async () => {
    const b = make({ maxStorageBufferBindingSize: 1024 });
    const said = b.supports(dilated);
    expect(said).toMatch(/maxStorageBufferBindingSize/);
    await expect(b.attention(dilated)).rejects.toMatchObject({ code: 'RESOURCE_LIMIT', message: said });
  });

  it('accepts in supports() what attention() runs (dilation by partition)', async () => {
    const b = make({ maxStorageBufferBindingSize: 2048 });
    expect(mismatch(dilated, await b.attention(dilated))).toBeNull();
    expect(b.supports(dilated)).toBe(true);
  });

  it('gives the same sentence before and after the device exists', async () => {
    const request = makeRequest({ Sq: 8, D: 256 }, { kind: 'causal' });
    const b = make({ maxComputeWorkgroupStorageSize: 2048 });
    const before = b.supports(request);
    expect(before).toMatch(/maxComputeWorkgroupStorageSize/);
    await expect(b.attention(request)).rejects.toMatchObject({ code: 'RESOURCE_LIMIT', field: 'q.shape[3]', message: before });
    expect(b.supports(request)).toBe(before);
  });
});
