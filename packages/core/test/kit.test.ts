import { describe, expect, it } from 'vitest';
import {
  type AttentionPlan,
  type DeviceCode,
  defineBackend,
  emptyResult,
  gatherPiece,
  planAttention,
  planPieces,
  resolveOptions,
  scatterPiece,
} from '../src/entry/backend.js';
import { referenceAttention64, toResult } from '../src/entry/reference.js';
import { type AttentionRequest, type AttentionResult, type Pattern, reference, SparseAttentionError } from '../src/index.js';
import { qkv } from './helpers.js';

const dilated = (dilation: number, left: number, right: number): Pattern => ({ kind: 'dilated', dilation, left, right });

/**
 * A fifth backend written on the kit: its device code is a plain float64 loop over one piece. Everything else
 * (validation, abort, pieces, snapshots, errors, dispose, lastRun) is the kit's.
 */
function tiny(options: { pieceBytes?: number; serial?: boolean; failWith?: () => unknown } = {}) {
  const ran: AttentionPlan[] = [];
  const state = { started: 0, released: 0 };
  const device: DeviceCode<{ id: number }, { kernel: string }> = {
    name: 'tiny',
    start: async () => ({ id: ++state.started }),
    describe: (ctx) => `plain JavaScript (device ${ctx.id})`,
    ...(options.pieceBytes ? { pieceBytes: (p: AttentionPlan) => p.batch * p.headsKv * 1000, maxPieceBytes: options.pieceBytes } : {}),
    check: (plan) => (plan.headDim > 64 ? { code: 'UNSUPPORTED', field: 'q.shape[3]', message: `tiny: head dim ${plan.headDim} is above 64` } : null),
    serial: options.serial ?? false,
    async run(_ctx, request, plan) {
      ran.push(plan);
      const result = toResult(referenceAttention64(request)); // reads the arrays before its first await
      await new Promise((r) => setTimeout(r, 1));
      const fault = options.failWith?.();
      if (fault) throw fault;
      return result;
    },
    async release() {
      state.released++;
    },
    translate: (e) => (String((e as Error).message).includes('lost') ? new SparseAttentionError('DEVICE_LOST', 'tiny: lost', { field: 'device' }) : undefined),
    runInfo: () => ({ kernel: 'loop' }),
  };
  return { backend: defineBackend(device, resolveOptions({})), ran, state };
}

const close = (a: AttentionResult, b: AttentionResult) => {
  expect(a.out.shape).toEqual(b.out.shape);
  a.out.data.forEach((x, n) => {
    expect(Math.abs(x - b.out.data[n]!)).toBeLessThan(1e-5);
  });
  if (b.lse)
    a.lse!.data.forEach((x, n) => {
      expect(x === b.lse!.data[n] || Math.abs(x - b.lse!.data[n]!) < 1e-5).toBe(true);
    });
};

describe('the backend kit', () => {
  it('a device with only start/run/release is a full Backend: probe, supports, attention, tolerance, lastRun', async () => {
    const { backend, state } = tiny();
    const request: AttentionRequest = { ...qkv({ Hq: 2, Sq: 9, D: 8 }), pattern: { kind: 'causal' }, returnLse: true };
    expect(backend.supports(request)).toBe(true);
    expect(backend.supports({ ...qkv({ Sq: 4, D: 80 }), pattern: { kind: 'causal' } })).toMatch(/head dim 80/);
    expect(await backend.probe()).toEqual({ available: true, device: 'plain JavaScript (device 1)' });
    close(await backend.attention(request), toResult(referenceAttention64(request)));
    expect(backend.lastRun()).toMatchObject({ backend: 'tiny', device: 'plain JavaScript (device 1)', pieces: 1, kernel: 'loop' });
    expect(backend.tolerance()).toEqual({ atol: 1e-5, rtol: 1e-4, lseAtol: 1e-5 });
    expect(state.started).toBe(1);
  });

  it('runs a dilated call as residue groups and a large one as head groups, equal to the whole call', async () => {
    const request: AttentionRequest = { ...qkv({ B: 2, Hq: 4, Hkv: 2, Sq: 23, Sk: 23, layout: 'bshd' }), pattern: dilated(2, 3, 3), returnLse: true };
    const whole = toResult(referenceAttention64(request));
    const { backend, ran } = tiny({ pieceBytes: 1000 });
    close(await backend.attention(request), whole);
    // 2 residue groups × 2 batch entries × 2 kv heads, each a piece of one (batch, kv head).
    expect(ran.length).toBe(8);
    expect(ran.every((p) => p.batch === 1 && p.headsKv === 1 && p.headsQ === 2 && p.patterns[0]!.kind === 'local')).toBe(true);
    expect(backend.lastRun()!.pieces).toBe(8);
    // One residue group has no keys: the only piece is not the whole call, and its rows are scattered back.
    const oneGroup: AttentionRequest = { ...qkv({ Sq: 2, Sk: 1 }), pattern: dilated(2, 0, 0), returnLse: true };
    close(await backend.attention(oneGroup), toResult(referenceAttention64(oneGroup)));
    expect(backend.lastRun()!.pieces).toBe(1);
  });

  it('a device with runStrided gets the whole request and every residue group, unless fitsStrided says no', async () => {
    const calls: { whole: boolean; pieces: number }[] = [];
    let fits = true;
    const base: DeviceCode<{ id: number }> = {
      name: 'strided',
      start: async () => ({ id: 1 }),
      describe: () => 'plain JavaScript',
      async run(_ctx, request, plan) {
        calls.push({ whole: false, pieces: 1 });
        return toResult(referenceAttention64({ ...request, pattern: plan.patterns, queryOffset: plan.offset }));
      },
      // Runs each group from the whole request by itself (the kit's own gather and scatter, here on the device side).
      async runStrided(_ctx, request, plan, pieces) {
        calls.push({ whole: true, pieces: pieces.length });
        const parts = pieces.map((p) => toResult(referenceAttention64(gatherPiece(request, plan, p)))); // reads before awaiting
        await new Promise((r) => setTimeout(r, 1));
        const result = emptyResult(plan);
        for (const [n, p] of pieces.entries()) scatterPiece(result, parts[n]!, plan, p);
        return result;
      },
      fitsStrided: () => fits,
      async release() {},
    };
    const backend = defineBackend(base, resolveOptions({}));
    const request: AttentionRequest = { ...qkv({ Hq: 2, Sq: 30 }), pattern: dilated(3, 2, 2), returnLse: true };
    const expected = toResult(referenceAttention64(request));
    // Not started: the kit keeps a private copy of the whole request; started and free: the caller's arrays.
    for (let n = 0; n < 2; n++) {
      const pending = backend.attention(request);
      const saved = request.q.data.slice();
      request.q.data.fill(Number.NaN);
      close(await pending, expected);
      request.q.data.set(saved);
    }
    expect(calls).toEqual([
      { whole: true, pieces: 3 },
      { whole: true, pieces: 3 },
    ]);
    expect(backend.lastRun()!.pieces).toBe(3);
    fits = false;
    calls.length = 0;
    close(await backend.attention(request), expected);
    expect(calls).toEqual([1, 2, 3].map(() => ({ whole: false, pieces: 1 })));
    // A call that is one piece runs as one.
    calls.length = 0;
    fits = true;
    await backend.attention({ ...request, pattern: { kind: 'causal' } });
    expect(calls).toEqual([{ whole: false, pieces: 1 }]);
  });

  it('planPieces derives the pieces without re-planning, and covers every query row once', () => {
    const plan = planAttention({ ...qkv({ B: 1, Hq: 2, Sq: 50, Sk: 60 }), pattern: dilated(4, 2, 0) });
    const pieces = planPieces(plan);
    expect(pieces.map((p) => p.select.qCount).reduce((a, b) => a + b)).toBe(50);
    expect(new Set(pieces.map((p) => p.select.q0)).size).toBe(4);
    expect(planPieces(plan, { partitionDilation: false })).toEqual([{ plan, select: expect.objectContaining({ qCount: 50, kCount: 60, stride: 1 }) }]);
  });

  it("the inputs are the caller's again once attention() returns, whichever path the call takes", async () => {
    for (const pattern of [{ kind: 'causal' } as const, dilated(2, 1, 1)]) {
      const { backend } = tiny();
      await backend.probe(); // started: the direct path for the plain call
      const request: AttentionRequest = { ...qkv({ Sq: 12 }), pattern };
      const expected = toResult(referenceAttention64(request));
      const pending = backend.attention(request);
      request.q.data.fill(Number.NaN);
      request.k.data.fill(7);
      close(await pending, expected);
    }
  });

  it('abort before a call and dispose are the same on every kit backend', async () => {
    const { backend, state } = tiny({ serial: true });
    const ac = new AbortController();
    ac.abort();
    const request: AttentionRequest = { ...qkv({ Sq: 6 }), pattern: { kind: 'causal' } };
    await expect(backend.attention(request, { signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED', field: 'signal' });
    const inFlight = [backend.attention(request), backend.attention(request)];
    const disposing = backend.dispose();
    expect(await Promise.all(inFlight)).toHaveLength(2); // calls made before dispose() finish
    await disposing;
    expect(state.released).toBe(1);
    await expect(backend.attention(request)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', field: 'backend' });
    expect(backend.supports(request)).toMatch(/disposed/);
    expect(await backend.probe()).toMatchObject({ available: false });
    await backend.dispose(); // idempotent
    expect(state.released).toBe(1);
  });

  it('types failures: a lost device is released and the next call starts a new one; anything else is INTERNAL', async () => {
    let fault: unknown = new Error('device lost');
    const { backend, state } = tiny({ failWith: () => fault });
    const request: AttentionRequest = { ...qkv({ Sq: 6 }), pattern: { kind: 'causal' } };
    await expect(backend.attention(request)).rejects.toMatchObject({ code: 'DEVICE_LOST' });
    expect(state.released).toBe(1);
    fault = new TypeError('oops');
    await expect(backend.attention(request)).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/^tiny: unexpected error \(oops\)/) });
    expect(state.started).toBe(2);
    fault = null;
    await expect(backend.attention(request)).resolves.toBeDefined();
  });

  it('a device that reads its inputs late always gets private copies; gate and check serve the entry points a backend adds', async () => {
    let seen: AttentionRequest | null = null;
    const backend = defineBackend(
      {
        name: 'late',
        start: async () => ({}),
        describe: () => 'reads late',
        readsLate: true,
        check: (plan) => (plan.seqQ > 100 ? { code: 'RESOURCE_LIMIT', field: 'request', message: 'late: too long' } : null),
        async run(_ctx, request) {
          seen = request;
          await new Promise((r) => setTimeout(r, 1));
          return toResult(referenceAttention64(request)); // reads after an await
        },
        async release() {},
      },
      resolveOptions({}),
      (kit) => ({
        extra: (seqQ: number) =>
          kit.gate(() => {
            kit.check(planAttention({ ...qkv({ Sq: seqQ }), pattern: { kind: 'causal' } }));
            return kit.call(async () => seqQ);
          }),
      }),
    );
    await backend.probe();
    const request: AttentionRequest = { ...qkv({ Sq: 8 }), pattern: { kind: 'causal' } };
    const expected = toResult(referenceAttention64(request));
    const pending = backend.attention(request);
    request.q.data.fill(3);
    close(await pending, expected);
    expect(seen!.q.data).not.toBe(request.q.data);
    await expect(backend.extra(5)).resolves.toBe(5);
    await expect(backend.extra(500)).rejects.toMatchObject({ code: 'RESOURCE_LIMIT', message: 'late: too long' });
    await backend.dispose();
    await expect(backend.extra(5)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
  });

  it('serial devices run one call at a time, in order', async () => {
    const { backend, ran } = tiny({ serial: true });
    const calls = [4, 5, 6].map((Sq) => backend.attention({ ...qkv({ Sq }), pattern: { kind: 'causal' } }));
    await Promise.all(calls);
    expect(ran.map((p) => p.seqQ)).toEqual([4, 5, 6]);
  });

  it('the reference backend is a kit backend with the shared options', async () => {
    const r = reference({ tiles: { blockQ: 8, blockK: 16 }, maskCacheSize: 2 });
    const request: AttentionRequest = { ...qkv({ Sq: 20 }), pattern: { kind: 'local', left: 3 } };
    close(await r.attention(request), toResult(referenceAttention64(request)));
    expect(r.lastRun()).toMatchObject({ backend: 'reference', pieces: 1 });
    expect(() => reference({ tiles: { blockQ: 8, blockZ: 1 } as never })).toThrow(/^tiles\.blockZ: is not a tile size/);
  });
});
