import { type Backend, reference } from '@sparse/core';
import { describe, expect, it } from 'vitest';
import { fuzzInvalid, fuzzValid } from '../src/fuzz/index.js';
import { describeFuzz } from '../src/vitest.js';

describeFuzz({ name: 'reference', create: () => reference(), requireAvailable: true });

/** A backend that multiplies masked keys in, as a fused kernel that forgets to select them out would. */
function leaky(): Backend {
  const inner = reference();
  return {
    ...inner,
    name: 'leaky',
    async attention(request, o) {
      const r = await inner.attention(request, o);
      const poisoned = [request.k.data, request.v.data].some((d) => d.some((x) => !Number.isFinite(x)));
      return poisoned ? { ...r, out: { ...r.out, data: r.out.data.map(() => Number.NaN) } } : r;
    },
  };
}

/** A backend whose validation lets plain errors escape. */
function untyped(): Backend {
  const inner = reference();
  return {
    ...inner,
    name: 'untyped',
    supports: () => 'never',
    async attention(request) {
      if (!request?.q?.data?.length) throw new TypeError('cannot read the input');
      return inner.attention(request);
    },
  };
}

describe('the fuzzer finds what it is for', () => {
  it('a NaN that reaches rows which do not attend it', async () => {
    const outcome = await fuzzValid(leaky(), { runs: 300, seed: 3 });
    expect(outcome.passed).toBe(false);
    expect(outcome.failure).toMatch(/expected/);
  });
  it('an untyped error on a bad request', async () => {
    const outcome = await fuzzInvalid(untyped(), { runs: 300, seed: 3 });
    expect(outcome.passed).toBe(false);
    expect(outcome.failure).toMatch(/untyped TypeError|got .* core says/);
  });
});
