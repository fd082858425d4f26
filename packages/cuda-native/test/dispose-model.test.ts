// dispose() of the cuda-native backend (docs/design.md, "Backends and dispose") over the addon model: final and
// idempotent; afterwards probe() says unavailable with a reason, supports() returns that reason, attention()
// rejects with BACKEND_UNAVAILABLE; a call in flight when it began settles (a result or a typed error).

import { makeRequest } from '@sparse/conformance/testing';
import { isSparseAttentionError } from '@sparse/core';
import { describe, expect, it } from 'vitest';
import { modelBackend } from './model-backend.js';

const req = () => makeRequest({ B: 1, Hq: 2, Hkv: 1, Sq: 30, Sk: 30, D: 8, Dv: 8 }, { kind: 'causal' });

describe('cudaNative().dispose() over the addon model', () => {
  it('is final and idempotent, and every entry point says so afterwards', async () => {
    const b = modelBackend();
    expect((await b.probe()).available).toBe(true);
    expect(b.supports(req())).toBe(true);
    const inFlight = b.attention(req()).then(
      (r) => r.out.data.length,
      (e: unknown) => (isSparseAttentionError(e) ? e.code : 'untyped'),
    );
    await Promise.all([b.dispose(), b.dispose()]);
    await b.dispose();
    expect(await inFlight).toSatisfy((x: unknown) => x === 2 * 30 * 8 || x === 'BACKEND_UNAVAILABLE');
    const probe = await b.probe();
    expect(probe.available).toBe(false);
    expect(probe.reason).toMatch(/disposed/);
    expect(b.supports(req())).toMatch(/disposed/);
    await expect(b.attention(req())).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    await expect(b.upload(req().q)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
  });
});
