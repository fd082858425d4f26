// Calls in flight together with different head dims (so different kernels, tiles and shared memory sizes) each
// get the result they get alone: the JS layers share nothing per call, and the addon model settles them in
// any order, as the worker threads do.

import { makeRequest } from '@sparse/conformance/testing';
import { describe, expect, it } from 'vitest';
import { modelBackend } from './model-backend.js';

describe('concurrent calls over the addon model', () => {
  it('different head dims in flight at once match the same calls made one by one', async () => {
    const backend = modelBackend({ precision: 'bfloat16' });
    const reqs = [16, 80, 200, 17].map((D, n) => makeRequest({ B: 1, Hq: 2, Hkv: 1, Sq: 65, Sk: 65, D, Dv: D, seed: n }, { kind: 'local', left: 7, right: 7 }));
    const together = await Promise.all(reqs.map((r) => backend.attention(r)));
    for (const [n, r] of reqs.entries()) {
      const alone = await backend.attention(r);
      expect(together[n]!.out.data).toEqual(alone.out.data);
      expect(together[n]!.lse!.data).toEqual(alone.lse!.data);
    }
    await backend.dispose();
  });
});
