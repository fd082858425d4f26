import { afterAll, describe, expect, it } from 'vitest';
import { collectGarbage, RssSampler } from '../src/memory.js';

// The RSS sampler sees a peak that exists only while the main thread is busy in synchronous work, sampled finely
// after reset() and every 50 ms after coarse().
const MiB = 2 ** 20;

/** Holds `bytes` of touched memory for `ms` milliseconds of synchronous work on the main thread, then drops it. */
function holdBusy(bytes: number, ms: number): void {
  const a = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i += 4096) a[i] = 1;
  const end = performance.now() + ms;
  while (performance.now() < end) a[(Math.random() * bytes) | 0]! += 1;
}

/** A full GC, then time for V8 to free the collected arrays' memory (it does so concurrently). */
async function releaseEarlierArrays(): Promise<void> {
  collectGarbage();
  await new Promise((resolve) => setTimeout(resolve, 100));
}

describe('RssSampler', () => {
  const sampler = new RssSampler();
  afterAll(() => sampler.dispose());

  it('sees a transient peak during synchronous work after reset()', async () => {
    await releaseEarlierArrays();
    const before = sampler.reset();
    holdBusy(96 * MiB, 30);
    // The array is garbage now but may still be resident: the claim is only that the peak was seen.
    expect(sampler.peak() - before).toBeGreaterThan(80 * MiB);
  });

  it('still sees a peak held longer than its coarse interval after coarse()', async () => {
    await releaseEarlierArrays();
    const before = sampler.reset();
    sampler.coarse();
    holdBusy(96 * MiB, 200);
    expect(sampler.peak() - before).toBeGreaterThan(80 * MiB);
  });
});
