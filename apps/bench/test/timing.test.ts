import { describe, expect, it } from 'vitest';
import { measure } from '../src/timing.js';

// measure() with a fake call whose duration is the only input: how many warm-up calls and repetitions it runs.
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('measure', () => {
  const base = { warmup: 1, minReps: 3, maxReps: 10, minTimeMs: 200 };

  it('stops a long call at maxReps once minTimeMs is spent, after one warm-up', async () => {
    let calls = 0;
    const { timing } = await measure(
      async () => {
        calls++;
        await sleep(30);
      },
      { ...base, shortCall: { underMs: 10, warmupMs: 100, maxReps: 50 } },
    );
    // One warm-up call (30 ms is not short), then repetitions until 200 ms are spent: at most 7 of ≥ 30 ms.
    expect(calls).toBe(timing.reps + 1);
    expect(timing.reps).toBeGreaterThanOrEqual(3);
    expect(timing.reps).toBeLessThanOrEqual(7);
  });

  it('gives a short call the longer warm-up and up to shortCall.maxReps repetitions within minTimeMs', async () => {
    let calls = 0;
    const { timing } = await measure(
      async () => {
        calls++;
        await sleep(1);
      },
      { ...base, shortCall: { underMs: 10, warmupMs: 60, maxReps: 50 } },
    );
    // Each call takes ≥ 1 ms (timers may stretch it): the warm-up runs until 60 ms are spent, at least 2 calls.
    const warmups = calls - timing.reps;
    expect(warmups).toBeGreaterThan(1);
    expect(timing.reps).toBeGreaterThan(10);
    expect(timing.reps).toBeLessThanOrEqual(50);
    expect(timing.samplesMs).toHaveLength(timing.reps);
  });

  it('without shortCall, a short call gets maxReps after one warm-up', async () => {
    let calls = 0;
    const { timing } = await measure(async () => {
      calls++;
    }, base);
    expect(timing.reps).toBe(10);
    expect(calls).toBe(11);
  });
});
