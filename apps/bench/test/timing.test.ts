import { describe, expect, it } from 'vitest';
import { measure, type TimingSettings } from '../src/timing.js';

// measure() with a fake call whose duration is the only input: how many warm-up calls and repetitions it runs.
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** measure() of a call that sleeps `ms` (0: returns at once): its timing and how many calls it made in all. */
async function measureSleep(ms: number, settings: TimingSettings) {
  let calls = 0;
  const { timing } = await measure(async () => {
    calls++;
    if (ms > 0) await sleep(ms);
  }, settings);
  return { timing, calls };
}

describe('measure', () => {
  const base = { warmup: 1, minReps: 3, maxReps: 10, minTimeMs: 200 };

  it('stops a long call at maxReps once minTimeMs is spent, after one warm-up', async () => {
    const { timing, calls } = await measureSleep(30, { ...base, shortCall: { underMs: 10, warmupMs: 100, maxReps: 50 } });
    // One warm-up call (30 ms is not short), then repetitions until 200 ms are spent: at most 7 of ≥ 30 ms.
    expect(calls).toBe(timing.reps + 1);
    expect(timing.reps).toBeGreaterThanOrEqual(3);
    expect(timing.reps).toBeLessThanOrEqual(7);
  });

  it('gives a short call the longer warm-up and up to shortCall.maxReps repetitions within minTimeMs', async () => {
    const { timing, calls } = await measureSleep(1, { ...base, shortCall: { underMs: 10, warmupMs: 60, maxReps: 50 } });
    // Each call takes ≥ 1 ms (timers may stretch it): the warm-up runs until 60 ms are spent, at least 2 calls.
    expect(calls - timing.reps).toBeGreaterThan(1);
    expect(timing.reps).toBeGreaterThan(10);
    expect(timing.reps).toBeLessThanOrEqual(50);
    expect(timing.samplesMs).toHaveLength(timing.reps);
  });

  it('without shortCall, a short call gets maxReps after one warm-up', async () => {
    const { timing, calls } = await measureSleep(0, base);
    expect(timing.reps).toBe(10);
    expect(calls).toBe(11);
  });
});
