import { planAttentionShapes } from '@sparse/core/backend';
import { describe, expect, it } from 'vitest';
import { checkHeap } from '../src/check.js';
import { DEFAULT_MAX_SCORE_ELEMENTS } from '../src/options.js';

const plan = (S: number, H = 8) =>
  planAttentionShapes({ q: [1, H, S, 64], k: [1, H, S, 64], v: [1, H, S, 64], pattern: { kind: 'local', left: 128, right: 128 } });

describe('the tf.js wasm heap (refuse before allocating)', () => {
  it('refuses a request that cannot fit the 4 GiB wasm heap with RESOURCE_LIMIT naming the size', () => {
    expect(checkHeap('wasm', plan(2 ** 21), DEFAULT_MAX_SCORE_ELEMENTS)).toEqual({
      code: 'RESOURCE_LIMIT',
      field: 'request',
      message: expect.stringMatching(/^request: needs about \d+\.\d+ GiB of the tf\.js wasm heap \(4 GiB\)/),
    });
  });
  it('accepts what fits, and does not bound other tf.js backends', () => {
    expect(checkHeap('wasm', plan(32768), DEFAULT_MAX_SCORE_ELEMENTS)).toBeNull();
    expect(checkHeap('cpu', plan(2 ** 21), DEFAULT_MAX_SCORE_ELEMENTS)).toBeNull();
  });
});
