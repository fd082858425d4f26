import { afterAll, describe, expect, it } from 'vitest';
import { denseRows, remember } from '../src/targets/target.js';
import { makeCase } from '../src/workloads.js';
import { context, RssSampler } from './helpers.js';

// How many query rows a dense run times: our own dense baselines keep the flop and time budgets (and are
// extrapolated above them); a peer runs in full wherever it fits the memory budget and --max-run.
const sampler = new RssSampler();
afterAll(() => sampler.dispose());

const N = 4096;
const H = 8;
const flopsPerRow = 4 * H * N * 64;
const bytesPerRow = 3 * 4 * H * N; // what the dense peers' score matrices take per query row
const full = { denseBudgetFlops: 2e10, denseTargetMs: 2000, denseMemoryBytes: 1536 * 2 ** 20, maxRunMs: 30_000 };
const ctx = (settings = full) => context(makeCase('sliding', { seq: N, headDim: 64, headsQ: H, headsKv: H, window: 256 }), sampler, settings);

describe('denseRows', () => {
  it('a baseline over the flop budget times a power-of-two slice of rows', () => {
    expect(denseRows(ctx(), 'dense', flopsPerRow, bytesPerRow)).toBe(2048); // 2e10 / 8.4 MFLOP = 2383 rows
  });

  it('a peer that fits the memory budget runs every row, whatever the flop budget', () => {
    expect(denseRows(ctx(), 'dense', flopsPerRow, bytesPerRow, undefined, true)).toBe(N);
  });

  it('a peer over the memory budget is sliced like a baseline', () => {
    expect(denseRows(ctx({ ...full, denseMemoryBytes: 256 * 2 ** 20 }), 'dense', flopsPerRow, bytesPerRow, undefined, true)).toBe(512);
  });

  it('a peer whose full run would exceed --max-run, by its earlier throughput, is sliced', () => {
    const c = ctx();
    remember(c, 'dense', flopsPerRow * 64, 64 * 20); // 20 ms a row: 4096 rows take 82 s > 30 s
    expect(denseRows(c, 'dense', flopsPerRow, bytesPerRow, undefined, true)).toBe(64); // 2000 ms / 20 ms = 100 → 64
  });
});
