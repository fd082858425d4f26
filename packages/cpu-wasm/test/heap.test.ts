import { makeRequest } from '@sparse/conformance/testing';
import { BlockMaskCache, planAttention } from '@sparse/core/backend';
import { describe, expect, it } from 'vitest';
import { ARENA_BASE } from '../src/abi.js';
import { HEAP_ALIGN, ResidentHeap } from '../src/heap.js';
import { PlanCache } from '../src/plans.js';

describe('ResidentHeap', () => {
  it('allocates aligned blocks below a moving top, reuses freed ones first fit, merges and lowers the top', () => {
    const h = new ResidentHeap();
    expect(h.top).toBe(ARENA_BASE);
    const a = h.alloc(100);
    const b = h.alloc(64);
    const c = h.alloc(1000);
    expect([a, b, c]).toEqual([ARENA_BASE, ARENA_BASE + 128, ARENA_BASE + 192]);
    expect(h.top).toBe(ARENA_BASE + 192 + 1024);
    h.release(b);
    expect(h.alloc(10)).toBe(b); // the hole is reused
    h.release(b);
    h.release(a);
    expect(h.peek(192)).toEqual({ at: a, top: h.top }); // a and b merged into one hole
    h.release(c);
    expect(h.top).toBe(ARENA_BASE); // everything free: the arena moves back down
    expect(h.count).toBe(0);
    h.release(12345); // unknown: ignored
    expect(h.alloc(1) % HEAP_ALIGN).toBe(0);
  });

  it('stays flat over many alloc/free cycles of the same sizes', () => {
    const h = new ResidentHeap();
    const keep = h.alloc(4096);
    let top = 0;
    for (let i = 0; i < 1000; i++) {
      const x = h.alloc(256 + (i % 3) * 64);
      const y = h.alloc(32);
      h.release(x);
      h.release(y);
      if (i === 10) top = h.top;
      if (i > 10) expect(h.top).toBe(top);
    }
    h.release(keep);
    expect(h.top).toBe(ARENA_BASE);
  });
});

describe('PlanCache', () => {
  it('returns the same compiled call (head table, chunk plans) for a repeated pattern, shapes and offset', () => {
    const tiles = { blockQ: 32, blockK: 32 };
    const plans = new PlanCache(new BlockMaskCache(8), tiles, 2);
    const plan = (Sk: number, left = 64) => planAttention(makeRequest({ Hq: 4, Hkv: 2, Sq: 1, Sk, D: 8 }, { kind: 'local', left, right: 0 }));
    const a = plans.get(plan(300));
    expect(plans.get(plan(300))).toBe(a);
    expect(plans.chunks(plan(300), a, 8, 1, false)).toBe(plans.chunks(plan(300), a, 8, 1, false));
    expect(plans.chunks(plan(300), a, 8, 1, false).phases).not.toContain(0); // no transposition: no prep phase
    expect(plans.get(plan(301))).not.toBe(a);
    expect(plans.get(plan(300, 65))).not.toBe(a);
    expect(plans.size).toBe(2); // least recently used dropped
  });
});
