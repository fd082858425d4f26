import { assertMatchesReference, makeRequest, mulberry32, randomTensor, rejection, resultMismatch } from '@sparse/conformance/testing';
import type { AttentionRequest, AttentionResult, HostTensor, Layout, Pattern } from '@sparse/core';
import { afterAll, describe, expect, it } from 'vitest';
import { type CpuWasmBackend, cpuWasm, type WasmTensor } from '../dist/index.js';

const MODES = [
  ['1 thread', { threads: 1 }],
  ['2 threads', { threads: 2 }],
  ['inline', { inline: true }],
] as const;

/** Every value equal, NaN where NaN (bit-for-bit but for the NaN payload). */
function sameValues(a: Float32Array, b: Float32Array): string | null {
  if (a.length !== b.length) return `length ${a.length} != ${b.length}`;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return `[${i}]: ${a[i]} != ${b[i]}`;
  return null;
}

async function residentResult(b: CpuWasmBackend, r: { out: WasmTensor; lse?: WasmTensor }): Promise<AttentionResult> {
  const out = await b.download(r.out);
  const lse = r.lse ? await b.download(r.lse) : undefined;
  r.out.release();
  r.lse?.release();
  return lse ? { out, lse } : { out };
}

/** Positions [from, to) of a [B, H, S, D] tensor in `layout`. */
function positions(t: HostTensor, layout: Layout, from: number, to: number): HostTensor {
  const [B, a, b, D] = t.shape as number[];
  const [H, S] = layout === 'bhsd' ? [a!, b!] : [b!, a!];
  const n = to - from;
  const data = new Float32Array(B! * H * n * D!);
  for (let bi = 0; bi < B!; bi++)
    for (let h = 0; h < H; h++)
      for (let s = 0; s < n; s++) {
        const src = layout === 'bhsd' ? ((bi * H + h) * S + from + s) * D! : ((bi * S + from + s) * H + h) * D!;
        const dst = layout === 'bhsd' ? ((bi * H + h) * n + s) * D! : ((bi * n + s) * H + h) * D!;
        data.set(t.data.subarray(src, src + D!), dst);
      }
  return { data, shape: layout === 'bhsd' ? [B!, H, n, D!] : [B!, n, H, D!] };
}

const STATIC_PATTERNS: Pattern[] = [
  { kind: 'causal' },
  { kind: 'dense' },
  { kind: 'local', left: 9, right: 3 },
  { kind: 'blockLocal', block: 16, left: 1, right: 0 },
  { kind: 'global', tokens: [0, 5] },
  {
    kind: 'union',
    of: [
      { kind: 'local', left: 4, right: 4 },
      { kind: 'global', tokens: [2] },
    ],
  },
  { kind: 'topk', k: 5, within: { kind: 'causal' } },
];

describe.each(MODES)('resident tensors (%s)', (_label, options) => {
  const b = cpuWasm(options);
  afterAll(() => b.dispose());

  it('attentionResident equals attention() bit for bit on random shapes, patterns and layouts', async () => {
    const rand = mulberry32(7);
    const pick = (n: number) => rand() % n;
    for (let n = 0; n < 14; n++) {
      const Hkv = 1 + pick(2);
      const layout: Layout = pick(2) ? 'bhsd' : 'bshd';
      const Sq = 1 + pick(70);
      const shape = { B: 1 + pick(2), Hq: Hkv * (1 + pick(2)), Hkv, Sq, Sk: Sq + pick(40), D: 4 + 4 * pick(5), Dv: 1 + pick(12), layout, seed: n + 1 };
      let pattern: Pattern | Pattern[] = STATIC_PATTERNS[n % STATIC_PATTERNS.length]!;
      if (n === 13) pattern = Array.from({ length: shape.Hq }, (_, h) => STATIC_PATTERNS[h % 3]!);
      if (n === 12) pattern = { kind: 'cluster', centroids: [Array(shape.D).fill(1), Array(shape.D).fill(-1)] } as Pattern;
      const req = makeRequest(shape, pattern, { returnLse: pick(2) === 0 });
      const host = await b.attention(req);
      // Mixed: q stays a host tensor in one case out of three.
      const q = n % 3 === 0 ? req.q : await b.upload(req.q);
      const k = await b.upload(req.k);
      const v = await b.upload(req.v);
      const got = await residentResult(b, await b.attentionResident({ ...req, q, k, v }));
      expect(sameValues(got.out.data, host.out.data), `case ${n} out`).toBeNull();
      expect(got.out.shape).toEqual(host.out.shape);
      if (req.returnLse) expect(sameValues(got.lse!.data, host.lse!.data), `case ${n} lse`).toBeNull();
      else expect(got.lse).toBeUndefined();
      for (const t of [q, k, v]) if ('release' in t) t.release();
    }
    expect(b.liveResident()).toBe(0);
  });

  it('a dilated call agrees within the float32 tolerance (attention() runs it as residue groups)', async () => {
    const req = makeRequest({ Hq: 2, Sq: 90, D: 8 }, { kind: 'dilated', dilation: 3, left: 5, right: 2 });
    const host = await b.attention(req);
    const [q, k, v] = [await b.upload(req.q), await b.upload(req.k), await b.upload(req.v)];
    const got = await residentResult(b, await b.attentionResident({ ...req, q, k, v }));
    expect(resultMismatch(got, host, b.tolerance(req))).toBeNull();
    for (const t of [q, k, v]) t.release();
  });

  it('upload and download round-trip; the caller may reuse its array at once; a v with NaN is not changed by a call', async () => {
    const t = randomTensor([1, 2, 40, 8], 3);
    const copy = t.data.slice();
    const up = b.upload(t);
    t.data.fill(7);
    const x = await up;
    expect((await b.download(x)).data).toEqual(copy);
    const req = makeRequest({ Hq: 2, Sq: 40, D: 8 }, { kind: 'local', left: 3, right: 0 });
    const vData = req.v.data.slice();
    vData[8 * 5 + 1] = Number.NaN;
    const v = await b.upload({ data: vData, shape: req.v.shape });
    const r = await b.attentionResident({ ...req, v });
    const got = await residentResult(b, r);
    const host = await b.attention({ ...req, v: { data: vData, shape: req.v.shape } });
    expect(sameValues(got.out.data, host.out.data)).toBeNull();
    expect(sameValues((await b.download(v)).data, vData)).toBeNull();
    x.release();
    v.release();
  });
});

interface DecodeCase {
  window?: number;
  Sq: number;
  layout: Layout;
  /** Head dim of v (default 8; the cache pads its V tiles to a multiple of 8). */
  Dv?: number;
}

const DECODE: DecodeCase[] = [
  { Sq: 1, layout: 'bhsd' },
  { Sq: 16, layout: 'bshd' },
  { window: 45, Sq: 1, layout: 'bshd' },
  { window: 45, Sq: 16, layout: 'bhsd' },
  { window: 45, Sq: 1, layout: 'bhsd', Dv: 13 },
];

describe.each(MODES)('KV cache decode (%s)', (_label, options) => {
  const b = cpuWasm(options);
  afterAll(() => b.dispose());

  it.each(DECODE)(
    'append + attentionResident equals attention() over the whole sequence at every step (window $window, Sq $Sq, $layout, Dv $Dv)',
    async ({ window, Sq, layout, Dv = 8 }) => {
      const B = 2;
      const Hq = 4;
      const Hkv = 2;
      const D = 12;
      const N = window === undefined ? 160 : 230;
      const full = makeRequest({ B, Hq, Hkv, Sq: N, Sk: N, D, Dv, layout, seed: 11 }, { kind: 'causal' });
      const pattern: Pattern = window === undefined ? { kind: 'causal' } : { kind: 'local', left: window, right: 0 };
      const cache = await b.kvCache({
        batch: B,
        headsKv: Hkv,
        headDim: D,
        headDimV: Dv,
        capacity: window === undefined ? N : window + Sq,
        layout,
        ...(window === undefined ? {} : { window }),
      });
      for (let L = 0; L < N; L += Sq) {
        const n = Math.min(Sq, N - L);
        await cache.append(positions(full.k, layout, L, L + n), positions(full.v, layout, L, L + n));
        expect(cache.length).toBe(L + n);
        const q = positions(full.q, layout, L, L + n);
        const host = await b.attention({ q, k: positions(full.k, layout, 0, L + n), v: positions(full.v, layout, 0, L + n), pattern, layout, returnLse: true });
        const got = await residentResult(b, await b.attentionResident({ q, k: cache, v: cache, pattern, layout, returnLse: true }));
        // One query row: the two heads of each kv group run as one task.
        expect(b.lastRun()!.headsPerTask).toBe(n === 1 ? Hq / Hkv : 1);
        if (window === undefined) {
          expect(sameValues(got.out.data, host.out.data), `step at ${L}`).toBeNull();
          expect(sameValues(got.lse!.data, host.lse!.data), `step at ${L}`).toBeNull();
        } else expect(resultMismatch(got, host, b.tolerance()), `step at ${L}`).toBeNull();
      }
      cache.release();
    },
  );

  it('truncate() drops rejected draft tokens: appending again equals attention() over the accepted sequence', async () => {
    const D = 8;
    const window = 40;
    const full = makeRequest({ Hq: 4, Hkv: 2, Sq: 200, D, seed: 13 }, { kind: 'causal' });
    const drafts = makeRequest({ Hq: 4, Hkv: 2, Sq: 200, D, seed: 99 }, { kind: 'causal' });
    const pattern: Pattern = { kind: 'local', left: window, right: 0 };
    const cache = await b.kvCache({ headsKv: 2, headDim: D, capacity: window + 8, window });
    let L = 0;
    while (L < 190) {
      // Four draft positions (other rows), of which the first `accept` are the sequence's own; then the rest again.
      const accept = L % 3;
      await cache.append(positions(drafts.k, 'bhsd', L, L + 4), positions(drafts.v, 'bhsd', L, L + 4));
      cache.truncate(L);
      await cache.append(positions(full.k, 'bhsd', L, L + accept + 1), positions(full.v, 'bhsd', L, L + accept + 1));
      L += accept + 1;
      expect(cache.length).toBe(L);
      const q = positions(full.q, 'bhsd', L - 1, L);
      const host = await b.attention({ q, k: positions(full.k, 'bhsd', 0, L), v: positions(full.v, 'bhsd', 0, L), pattern, returnLse: true });
      const got = await residentResult(b, await b.attentionResident({ q, k: cache, v: cache, pattern, returnLse: true }));
      expect(resultMismatch(got, host, b.tolerance()), `at ${L}`).toBeNull();
    }
    // The ring has wrapped: positions before first are gone and truncate() cannot go back to them.
    expect(cache.first).toBeGreaterThan(0);
    for (const bad of [cache.first - 1, cache.length + 1, 1.5, Number.NaN])
      expect(() => cache.truncate(bad)).toThrow(/^length: must be an integer from \d+ \(the first position the cache still holds\)/);
    cache.truncate(cache.first);
    expect(cache.length).toBe(cache.first);
    cache.release();
    expect(() => cache.truncate(0)).toThrow(/^cache: the KV cache was released/);
  });

  it('a windowed cache evicts: memory stays flat over many steps past its capacity', async () => {
    const D = 8;
    const cache = await b.kvCache({ headsKv: 1, headDim: D, capacity: 40, window: 32 });
    const pattern: Pattern = { kind: 'local', left: 32, right: 0 };
    const step = (i: number) => randomTensor([1, 1, 1, D], 1000 + i);
    let mem = 0;
    let resident = 0;
    for (let i = 0; i < 400; i++) {
      await cache.append(step(i), step(i + 5000));
      const out = await b.attentionResident({ q: step(i + 9000), k: cache, v: cache, pattern });
      out.out.release();
      if (i === 60) {
        mem = b.lastRun()!.memoryBytes!;
        resident = b.lastRun()!.residentBytes!;
      }
      if (i > 60) {
        expect(b.lastRun()!.memoryBytes).toBe(mem);
        expect(b.lastRun()!.residentBytes).toBe(resident);
      }
    }
    expect(cache.length).toBe(400);
    expect(cache.first).toBe(400 - 64);
    cache.release();
  });

  it('non-finite values in appended keys poison only the rows that attend them, until they are evicted', async () => {
    const D = 8;
    const N = 150;
    const window = 20;
    const full = makeRequest({ Hq: 2, Hkv: 1, Sq: N, D, seed: 5 }, { kind: 'causal' });
    full.k.data[40 * D + 3] = Number.NaN;
    full.v.data[70 * D + 1] = Number.POSITIVE_INFINITY;
    const pattern: Pattern = { kind: 'local', left: window, right: 0 };
    const cache = await b.kvCache({ headsKv: 1, headDim: D, capacity: window + 4, window });
    for (let L = 0; L < N; L += 4) {
      await cache.append(positions(full.k, 'bhsd', L, L + 4), positions(full.v, 'bhsd', L, L + 4));
      const q = positions(full.q, 'bhsd', L, L + 4);
      const host = await b.attention({ q, k: positions(full.k, 'bhsd', 0, L + 4), v: positions(full.v, 'bhsd', 0, L + 4), pattern, returnLse: true });
      const got = await residentResult(b, await b.attentionResident({ q, k: cache, v: cache, pattern, returnLse: true }));
      expect(resultMismatch(got, host, b.tolerance()), `step at ${L}`).toBeNull();
      const poisoned = (L <= 40 + window && L + 3 >= 40) || (L <= 70 + window && L + 3 >= 70);
      expect(Array.from(got.lse!.data).some(Number.isNaN)).toBe(poisoned);
    }
    cache.release();
  });
});

describe('resident errors', () => {
  const b = cpuWasm({ threads: 2 });
  const other = cpuWasm({ inline: true });
  afterAll(async () => {
    await b.dispose();
    await other.dispose();
  });
  const req = makeRequest({ Hq: 2, Sq: 20, D: 8 }, { kind: 'causal' });

  it('a released tensor, another backend tensor, wrong shapes and an aborted signal are typed errors naming the field', async () => {
    const [q, k, v] = [await b.upload(req.q), await b.upload(req.k), await b.upload(req.v)];
    const foreign = await other.upload(req.k);
    expect(await rejection(b.attentionResident({ ...req, q, k: foreign, v }))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'k' });
    expect(await rejection(b.download(foreign))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'tensor' });
    const short = await b.upload(randomTensor([1, 2, 19, 8], 1));
    expect(await rejection(b.attentionResident({ ...req, q, k, v: short }))).toMatchObject({ code: 'INVALID_SHAPE', field: 'v.shape[2]' });
    expect(await rejection(b.attentionResident({ ...req, q, k, v }, { signal: AbortSignal.abort() }))).toMatchObject({ code: 'ABORTED', field: 'signal' });
    expect(await rejection(b.attentionResident({ ...req, q, k, v, pattern: { kind: 'local', left: -1 } as Pattern }))).toMatchObject({
      code: 'INVALID_PATTERN',
    });
    expect(await rejection(b.upload({ data: new Float32Array(3), shape: [1, 2] }))).toMatchObject({ code: 'INVALID_SHAPE', field: 'tensor.data' });
    v.release();
    v.release();
    expect(await rejection(b.attentionResident({ ...req, q, k, v }))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'v' });
    expect(await rejection(b.download(v))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'tensor' });
    expect(() => other.release(q)).toThrow(/another cpu-wasm backend/);
    for (const t of [q, k, short, foreign]) t.release();
  });

  it('KV cache errors: options, shapes, beyond capacity, evicted keys, cluster, k without v', async () => {
    expect(await rejection(b.kvCache({ headsKv: 0, headDim: 8, capacity: 8 }))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'headsKv' });
    expect(await rejection(b.kvCache({ headsKv: 1, headDim: 8, capacity: 8, window: 8 }))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'window' });
    expect(await rejection(b.kvCache({ headsKv: 1, headDim: 8, capacity: 8, size: 3 } as never))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'size' });
    const cache = await b.kvCache({ headsKv: 1, headDim: 8, capacity: 40 });
    const kv = (n: number, D = 8) => randomTensor([1, 1, n, D], n);
    const q = randomTensor([1, 2, 1, 8], 4);
    expect(await rejection(b.attentionResident({ q, k: cache, v: cache, pattern: { kind: 'causal' } }))).toMatchObject({ code: 'INVALID_SHAPE', field: 'k' });
    expect(await rejection(cache.append(kv(3, 4), kv(3)))).toMatchObject({ code: 'INVALID_SHAPE', field: 'k.shape[3]' });
    expect(await rejection(cache.append(kv(3), kv(2)))).toMatchObject({ code: 'INVALID_SHAPE', field: 'v.shape[2]' });
    expect(await rejection(cache.append(randomTensor([1, 2, 3, 8], 1), kv(3)))).toMatchObject({ code: 'INVALID_SHAPE', field: 'k.shape[1]' });
    await cache.append(kv(30), kv(30));
    expect(await rejection(cache.append(kv(11), kv(11)))).toMatchObject({ code: 'INVALID_SHAPE', field: 'k.shape[2]' });
    expect(cache.length).toBe(30);
    const k = await b.upload(kv(30));
    expect(await rejection(b.attentionResident({ q, k: cache, v: k, pattern: { kind: 'causal' } }))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'v' });
    const cluster = { kind: 'cluster', centroids: [Array(8).fill(1)] } as Pattern;
    expect(await rejection(b.attentionResident({ q, k: cache, v: cache, pattern: cluster }))).toMatchObject({ code: 'UNSUPPORTED', field: 'pattern' });
    expect(await rejection(b.attentionResident({ q: cache as never, k: cache, v: cache, pattern: { kind: 'causal' } }))).toMatchObject({ field: 'q' });
    k.release();
    cache.release();
    expect(await rejection(cache.append(kv(1), kv(1)))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'cache' });

    const ring = await b.kvCache({ headsKv: 1, headDim: 8, capacity: 40, window: 30 }); // keeps 64 positions
    for (let i = 0; i < 5; i++) await ring.append(kv(20), kv(20));
    expect(ring.first).toBe(100 - 64);
    const q4 = randomTensor([1, 2, 4, 8], 5);
    const ok = await b.attentionResident({ q: q4, k: ring, v: ring, pattern: { kind: 'local', left: 60, right: 0 } });
    ok.out.release();
    const e = await rejection(b.attentionResident({ q: q4, k: ring, v: ring, pattern: { kind: 'local', left: 61, right: 0 } }));
    expect(e).toMatchObject({ code: 'INVALID_PATTERN', field: 'pattern' });
    expect(e.message).toMatch(/no longer holds/);
    expect(await rejection(b.attentionResident({ q: q4, k: ring, v: ring, pattern: { kind: 'causal' } }))).toMatchObject({ code: 'INVALID_PATTERN' });
    expect(await rejection(ring.append(kv(65), kv(65)))).toMatchObject({ code: 'INVALID_SHAPE', field: 'k.shape[2]' });
    ring.release();
    expect(b.liveResident()).toBe(0);
  });

  it('a dead worker: tensors and caches of the lost device are DEVICE_LOST afterwards; new ones work', async () => {
    const t = await b.upload(req.q);
    const cache = await b.kvCache({ headsKv: 2, headDim: 8, capacity: 8 });
    b.injectFault('kill-worker');
    expect(await rejection(b.attention(req))).toMatchObject({ code: 'DEVICE_LOST' });
    expect(await rejection(b.attentionResident({ ...req, q: t }))).toMatchObject({ code: 'DEVICE_LOST', field: 'q' });
    expect(await rejection(b.download(t))).toMatchObject({ code: 'DEVICE_LOST', field: 'tensor' });
    expect(await rejection(cache.append(randomTensor([1, 2, 1, 8], 1), randomTensor([1, 2, 1, 8], 2)))).toMatchObject({ code: 'DEVICE_LOST' });
    const q = await b.upload(req.q);
    const got = await residentResult(b, await b.attentionResident({ ...req, q }));
    expect(sameValues(got.out.data, (await b.attention(req)).out.data)).toBeNull();
    t.release();
    q.release();
  });

  it('after dispose(): every resident entry point is BACKEND_UNAVAILABLE', async () => {
    const c = cpuWasm({ inline: true });
    const t = await c.upload(req.q);
    const cache = await c.kvCache({ headsKv: 2, headDim: 8, capacity: 8 });
    await c.dispose();
    for (const p of [
      c.attentionResident({ ...req, q: t }),
      c.upload(req.q),
      c.download(t),
      c.kvCache({ headsKv: 1, headDim: 8, capacity: 8 }),
      cache.append(randomTensor([1, 2, 1, 8], 1), randomTensor([1, 2, 1, 8], 2)),
    ])
      expect(await rejection(p)).toMatchObject({ code: 'BACKEND_UNAVAILABLE', field: 'backend' });
    t.release();
  });

  it('calls made without awaiting run in order: append, attention, append, attention', async () => {
    const D = 8;
    const full = makeRequest({ Hq: 2, Hkv: 2, Sq: 8, D, seed: 9 }, { kind: 'causal' });
    const cache = await b.kvCache({ headsKv: 2, headDim: D, capacity: 8 });
    const step = (L: number) => {
      void cache.append(positions(full.k, 'bhsd', L, L + 4), positions(full.v, 'bhsd', L, L + 4));
      return b.attentionResident({ q: positions(full.q, 'bhsd', L, L + 4), k: cache, v: cache, pattern: { kind: 'causal' } });
    };
    const [r0, r1] = [step(0), step(4)];
    const host = await b.attention(full as AttentionRequest);
    const o0 = (await residentResult(b, await r0)).out.data;
    const o1 = (await residentResult(b, await r1)).out.data;
    const rows = (from: number) => positions(host.out, 'bhsd', from, from + 4).data;
    expect(sameValues(o0, rows(0))).toBeNull();
    expect(sameValues(o1, rows(4))).toBeNull();
    cache.release();
  });
});

describe.each(MODES)('host calls copy only the listed key blocks (%s)', (_label, options) => {
  const b = cpuWasm({ ...options, splitBytes: 2 ** 20 });
  afterAll(() => b.dispose());

  it('a narrow window over a long sequence matches the reference, whatever the memory held before', async () => {
    const shape = { B: 2, Hq: 4, Hkv: 2, Sq: 4, Sk: 3000, D: 16, seed: 21 };
    const poison = makeRequest(shape, { kind: 'dense' });
    poison.k.data.fill(Number.NaN);
    poison.v.data.fill(Number.POSITIVE_INFINITY);
    await b.attention(poison); // leaves non-finite keys and values all over the arena
    for (const layout of ['bhsd', 'bshd'] as const) {
      const req = makeRequest({ ...shape, layout }, { kind: 'local', left: 100, right: 0 });
      assertMatchesReference(req, await b.attention(req));
      // 4 · (B · Hkv · ~130 keys · 3 · D) bytes: one piece under splitBytes, where the whole K and V would be several.
      expect(b.lastRun()!.pieces).toBe(1);
    }
    const wide = makeRequest(shape, { kind: 'causal' });
    assertMatchesReference(wide, await b.attention(wide));
    expect(b.lastRun()!.pieces).toBeGreaterThan(1);
  });
});
