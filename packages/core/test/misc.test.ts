import { describe, expect, it } from 'vitest';
import { makePredicate, referenceAttention } from '../src/entry/reference.js';
import {
  type Backend,
  bigBird,
  canonicalPattern,
  compileBlockMask,
  FLOAT32_TOLERANCE,
  fromFlashAttention,
  fromHfLongformerWindow,
  fromLongformerWindow,
  fromOrtLocalWindow,
  fromSlidingWindow,
  local,
  longformer,
  mergeAttention,
  type Pattern,
  parsePattern,
  patternKey,
  readNpy,
  reference,
  selectBackend,
  writeNpy,
} from '../src/index.js';
import { bruteRows, qkv } from './helpers.js';

const keysOf = (p: Pattern, i: number, sq: number, sk = sq) => bruteRows(makePredicate(p, { seqQ: sq, seqK: sk, offset: sk - sq }), sq, sk)[i];

describe('converters pin each library’s off-by-one', () => {
  it('FlashAttention window_size=(l, r) is inclusive on both sides; -1 is unbounded; causal caps right', () => {
    expect(keysOf(fromFlashAttention([2, 1]), 5, 10)).toEqual([3, 4, 5, 6]);
    expect(fromFlashAttention([-1, -1])).toEqual({ kind: 'dense' });
    expect(fromFlashAttention([-1, 0])).toEqual({ kind: 'causal' });
    expect(fromFlashAttention([-1, -1], { causal: true })).toEqual({ kind: 'causal' });
    expect(keysOf(fromFlashAttention([2, 5], { causal: true }), 5, 10)).toEqual([3, 4, 5]);
    expect(() => fromFlashAttention([-2, 0])).toThrow(/windowSize\[0\]/);
  });
  it('HF/xFormers sliding_window w keeps w keys including self', () => {
    expect(keysOf(fromSlidingWindow(4), 9, 10)).toEqual([6, 7, 8, 9]);
  });
  it('ORT local_window_size w keeps w keys including self (onnxruntime >= 1.23; w + 1 before)', () => {
    expect(keysOf(fromOrtLocalWindow(4), 9, 10)).toEqual([6, 7, 8, 9]);
    expect(keysOf(fromOrtLocalWindow(4, { before123: true }), 9, 10)).toEqual([5, 6, 7, 8, 9]);
    expect(fromOrtLocalWindow(-1)).toEqual({ kind: 'causal' });
  });
  it('original Longformer attention_window is one-sided; HF’s is the total and must be even', () => {
    expect(keysOf(fromLongformerWindow(2), 5, 10)).toEqual([3, 4, 5, 6, 7]);
    expect(keysOf(fromHfLongformerWindow(4), 5, 10)).toEqual([3, 4, 5, 6, 7]);
    expect(keysOf(fromLongformerWindow(1, { dilation: 2 }), 5, 10)).toEqual([3, 5, 7]);
    expect(() => fromHfLongformerWindow(3)).toThrow(/attention_window: must be a non-negative even integer/);
  });
});

describe('pattern data', () => {
  it('round-trips through JSON and has an order-insensitive canonical key', () => {
    const p = bigBird({ block: 4, seqLen: 64, seed: 9 });
    expect(parsePattern(JSON.stringify(p))).toEqual(p);
    const a: Pattern = { kind: 'union', of: [{ kind: 'global', tokens: [5, 1, 1] }, local(2)] };
    const b: Pattern = {
      kind: 'union',
      of: [
        { kind: 'local', right: 2, left: 2 },
        { kind: 'global', tokens: [1, 5] },
      ],
    };
    expect(patternKey(a)).toBe(patternKey(b));
    expect(canonicalPattern({ kind: 'neighborhood', kernel: 3 })).toEqual({ kind: 'neighborhood', kernel: 3, dilation: 1, causal: false });
    expect(patternKey(local(2))).not.toBe(patternKey(local(3)));
  });
});

describe('npy', () => {
  it('round-trips float32, float64, int32 and bool with aligned headers', () => {
    for (const [dtype, data] of [
      ['float32', new Float32Array([1.5, -2, 3, 4, 5, 6])],
      ['float64', new Float64Array([1e-300, 2, 3, 4, 5, 6])],
      ['int32', new Int32Array([1, -2, 3, 4, 5, 2 ** 31 - 1])],
      ['bool', new Uint8Array([1, 0, 1, 1, 0, 0])],
    ] as const) {
      const bytes = writeNpy({ dtype, shape: [2, 3], data });
      expect((bytes.length - data.byteLength) % 64).toBe(0);
      const back = readNpy(bytes);
      expect(back.dtype).toBe(dtype);
      expect(back.shape).toEqual([2, 3]);
      expect(Array.from(back.data)).toEqual(Array.from(data));
    }
  });
  it('reads a file written by NumPy (header bytes as numpy 1.x writes them) and 1-d and 0-d shapes', () => {
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
    const pad = 64 - ((10 + header.length + 1) % 64);
    const h = header + ' '.repeat(pad) + '\n';
    const bytes = new Uint8Array(10 + h.length + 12);
    bytes.set([0x93, 78, 85, 77, 80, 89, 1, 0, h.length & 255, h.length >> 8]);
    bytes.set(new TextEncoder().encode(h), 10);
    bytes.set(new Uint8Array(new Float32Array([1, 2, 3]).buffer), 10 + h.length);
    expect(Array.from(readNpy(bytes).data)).toEqual([1, 2, 3]);
    expect(readNpy(writeNpy({ dtype: 'float64', shape: [], data: new Float64Array([7]) })).shape).toEqual([]);
  });
  it('rejects broken files with a clear error', () => {
    expect(() => readNpy(new Uint8Array([1, 2, 3]), 'q.npy')).toThrow(/^q\.npy: is not a NumPy \.npy file/);
    const ok = writeNpy({ dtype: 'float32', shape: [4], data: new Float32Array(4) });
    expect(() => readNpy(ok.subarray(0, ok.length - 4), 'k.npy')).toThrow(/^k\.npy: is truncated/);
    const c64 = new TextDecoder('latin1').decode(ok).replace('<f4', '<c8');
    expect(() =>
      readNpy(
        Uint8Array.from(c64, (ch) => ch.charCodeAt(0)),
        'v.npy',
      ),
    ).toThrow(/^v\.npy\.dtype: must be one of/);
  });
});

describe('mergeAttention', () => {
  it('merging two halves of the keys equals attention over all keys', () => {
    const inp = qkv({ B: 2, Hq: 2, Sq: 5, Sk: 12, D: 4, Dv: 3 });
    const all = referenceAttention({ ...inp, pattern: { kind: 'dense' }, returnLse: true });
    const first: Pattern = {
      kind: 'intersect',
      of: [{ kind: 'dense' }, { kind: 'explicit', rowPtr: [0, 6, 12, 18, 24, 30], colIdx: Array.from({ length: 5 }, () => [0, 1, 2, 3, 4, 5]).flat() }],
    };
    const a = referenceAttention({ ...inp, pattern: first, returnLse: true });
    const b = referenceAttention({ ...inp, pattern: { kind: 'not', of: first }, returnLse: true });
    const m = mergeAttention(a.out, a.lse!, b.out, b.lse!);
    m.out.data.forEach((x, n) => {
      expect(x).toBeCloseTo(all.out.data[n]!, 5);
    });
    m.lse.data.forEach((x, n) => {
      expect(x).toBeCloseTo(all.lse!.data[n]!, 5);
    });
  });
  it('keeps empty rows at 0 / -Infinity and rejects mismatched shapes', () => {
    const out = { data: new Float32Array(2), shape: [1, 1, 1, 2] };
    const lse = { data: new Float32Array([-Infinity]), shape: [1, 1, 1] };
    const m = mergeAttention(out, lse, out, lse);
    expect(m.lse.data[0]).toBe(-Infinity);
    expect(Array.from(m.out.data)).toEqual([0, 0]);
    expect(() => mergeAttention(out, lse, { data: new Float32Array(3), shape: [1, 1, 1, 3] }, lse)).toThrow(/^outB\.shape/);
  });
});

describe('backends', () => {
  const broken = (name: string, reason: string): Backend => ({
    name,
    probe: async () => ({ available: false, reason }),
    supports: () => reason,
    attention: async () => {
      throw new Error('unreachable');
    },
    tolerance: () => ({ ...FLOAT32_TOLERANCE }),
    lastRun: () => null,
    dispose: async () => undefined,
  });

  it('selectBackend takes the first available and keeps the reasons of the others', async () => {
    const throwing: Backend = { ...broken('flaky', ''), probe: async () => Promise.reject(new Error('driver crashed')) };
    const { backend, tried } = await selectBackend([broken('webgpu', 'no adapter'), throwing, reference(), broken('late', 'x')]);
    expect(backend.name).toBe('reference');
    expect(tried).toEqual([
      { name: 'webgpu', available: false, reason: 'no adapter' },
      { name: 'flaky', available: false, reason: 'probe failed: driver crashed' },
      { name: 'reference', available: true, device: expect.any(String) },
      { name: 'late', available: false, reason: 'not probed: reference was chosen first' },
    ]);
  });
  it('selectBackend with nothing available throws BACKEND_UNAVAILABLE listing the reasons', async () => {
    await expect(selectBackend([broken('webgpu', 'no adapter')])).rejects.toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      message: expect.stringContaining('webgpu: no adapter'),
    });
  });
  it('the reference backend runs requests and says why it cannot', async () => {
    const be = reference();
    const req = { ...qkv({ Hq: 2, Sq: 33, Sk: 40, D: 5 }), pattern: longformer({ attentionWindow: 6, globalTokens: [0] }), returnLse: true };
    const r = await be.attention(req);
    const want = referenceAttention(req);
    r.out.data.forEach((x, n) => {
      expect(Math.abs(x - want.out.data[n]!)).toBeLessThan(1e-6);
    });
    expect(be.supports({ ...req, scale: Number.NaN })).toMatch(/^scale/);
    await be.dispose();
  });
  it('compiles tiles of any size for any backend', () => {
    const m = compileBlockMask(local(3), { seqQ: 100, seqK: 100, offset: 0 }, { blockQ: 128, blockK: 16 });
    expect(m.numQBlocks).toBe(1);
  });
});
