import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { reference, SparseAttentionError } from '@sparse/core';
import { mulberry32 } from '@sparse/core/reference';
import { describe, expect, it } from 'vitest';
import {
  assertClose,
  assertMatchesReference,
  cloneRequest,
  closeMismatch,
  FLOAT32_TOLERANCE,
  makeRequest,
  maxAbsDiff,
  qkv,
  randomArray,
  randomTensor,
  referenceMismatch,
  rejection,
  resultMismatch,
  uniform,
  withDuplicateKeys,
} from '../src/testing/index.js';

describe('seeded data', () => {
  it('draws u32 / 2³¹ − 1 from mulberry32 (the values the package tests used), and (u32 mod 5) − 2 as integers', () => {
    const next = mulberry32(42);
    const t = randomTensor([2, 3, 4, 5], 42);
    expect(t.shape).toEqual([2, 3, 4, 5]);
    expect(t.data).toBeInstanceOf(Float32Array);
    for (let n = 0; n < t.data.length; n++) expect(t.data[n]).toBe(Math.fround(next() / 2 ** 31 - 1));
    const again = mulberry32(7);
    const ints = randomTensor([64], 7, { integers: true });
    for (const x of ints.data) expect(x).toBe((again() % 5) - 2);
    expect(randomTensor([64], 7, true).data).toEqual(ints.data);
    expect(new Set(ints.data)).toEqual(new Set([-2, -1, 0, 1, 2]));
  });
  it('the other formulas in use give the same values: (u32 / 2³²)·2 − 1 times a scale, and the inline mulberry32 loop', () => {
    const next = mulberry32(9);
    const scaled = randomArray(100, 9, { scale: 0.5 });
    for (const x of scaled) expect(x).toBe(Math.fround(((next() / 2 ** 32) * 2 - 1) * 0.5));
    // The inline generator some tests carry (seed 0 aside, which it replaces by 1).
    const inline = (n: number, seed: number) => {
      let s = seed >>> 0 || 1;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        s = (s + 0x6d2b79f5) >>> 0;
        let t = s;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        out[i] = ((t ^ (t >>> 14)) >>> 0) / 2147483648 - 1;
      }
      return out;
    };
    for (const seed of [1, 11, 23, 37, 123456789]) expect(randomArray(500, seed)).toEqual(inline(500, seed));
    const u = uniform(9);
    const again = mulberry32(9);
    for (let n = 0; n < 10; n++) expect(u()).toBe(again() / 2 ** 31 - 1);
  });
  it('qkv: shapes in either layout, seeds seed, seed + 1, seed + 2, layout named only when given', () => {
    const a = qkv({ B: 2, Hq: 4, Hkv: 2, Sq: 5, Sk: 7, D: 3, Dv: 6, seed: 10 });
    expect([a.q.shape, a.k.shape, a.v.shape]).toEqual([
      [2, 4, 5, 3],
      [2, 2, 7, 3],
      [2, 2, 7, 6],
    ]);
    expect('layout' in a).toBe(false);
    expect(a.q.data).toEqual(randomTensor([2, 4, 5, 3], 10).data);
    expect(a.k.data).toEqual(randomTensor([2, 2, 7, 3], 11).data);
    expect(a.v.data).toEqual(randomTensor([2, 2, 7, 6], 12).data);
    const b = qkv({ B: 2, Hq: 4, Hkv: 2, Sq: 5, Sk: 7, D: 3, layout: 'bshd', integers: true });
    expect(b.layout).toBe('bshd');
    expect([b.q.shape, b.k.shape, b.v.shape]).toEqual([
      [2, 5, 4, 3],
      [2, 7, 2, 3],
      [2, 7, 2, 3],
    ]);
    expect(b.q.data.every((x) => Number.isInteger(x))).toBe(true);
    const d = qkv({ Sq: 3 });
    expect(d.q.shape).toEqual([1, 1, 3, 8]);
  });
  it('makeRequest asks for lse and takes extras last', () => {
    const r = makeRequest({ Sq: 4 }, { kind: 'causal' }, { scale: 0.1, returnLse: false });
    expect(r.pattern).toEqual({ kind: 'causal' });
    expect(r.scale).toBe(0.1);
    expect(r.returnLse).toBe(false);
    expect(makeRequest({ Sq: 4 }, { kind: 'dense' }).returnLse).toBe(true);
  });
  it('withDuplicateKeys copies key 0 to the listed keys, or each odd key from the one before, in either layout', () => {
    for (const layout of ['bhsd', 'bshd'] as const) {
      const r = makeRequest({ B: 2, Hq: 2, Sq: 6, D: 3, layout }, { kind: 'dense' });
      const key = (x: typeof r, b: number, h: number, j: number) => {
        const [, a, c] = x.k.shape as number[];
        const [H, S] = layout === 'bhsd' ? [a!, c!] : [c!, a!];
        const at = layout === 'bhsd' ? ((b * H + h) * S + j) * 3 : ((b * S + j) * H + h) * 3;
        return Array.from(x.k.data.subarray(at, at + 3));
      };
      const listed = withDuplicateKeys(r, [2, 5]);
      const pairs = withDuplicateKeys(r);
      expect(r.k.data).not.toEqual(listed.k.data); // a copy; the original is kept
      for (let b = 0; b < 2; b++)
        for (let h = 0; h < 2; h++) {
          expect(key(listed, b, h, 2)).toEqual(key(r, b, h, 0));
          expect(key(listed, b, h, 5)).toEqual(key(r, b, h, 0));
          expect(key(listed, b, h, 1)).toEqual(key(r, b, h, 1));
          for (const j of [1, 3, 5]) expect(key(pairs, b, h, j)).toEqual(key(r, b, h, j - 1));
        }
    }
  });
  it('cloneRequest copies data, shapes and patterns', () => {
    const r = makeRequest({ Sq: 4 }, [{ kind: 'local', left: 1 }]);
    const c = cloneRequest(r);
    r.q.data.fill(0);
    (r.pattern as unknown as { left: number }[])[0]!.left = 3;
    expect(c.q.data.some((x) => x !== 0)).toBe(true);
    expect(c.pattern).toEqual([{ kind: 'local', left: 1 }]);
  });
});

describe('closeness', () => {
  it('maxAbsDiff: equal infinities count as 0, NaN on one side is NaN', () => {
    expect(maxAbsDiff([1, 2, -Infinity], [1.5, 2, -Infinity])).toBe(0.5);
    expect(maxAbsDiff([Number.NaN], [1])).toBeNaN();
  });
  it('closeMismatch: the tolerance formula, NaN exactly where expected, infinities equal, lse mode', () => {
    const tol = { atol: 1e-3, rtol: 1e-2, lseAtol: 1e-3 };
    expect(closeMismatch([1.01], [1], tol)).toBeNull();
    expect(closeMismatch([1.02], [1], tol)).toMatch(/^out\[0\] = 1.02, expected 1 \(\|err\|/);
    expect(closeMismatch([1, 2], [1], tol)).toMatch(/has 2 values, expected 1/);
    expect(closeMismatch([Number.NaN], [Number.NaN], tol)).toBeNull();
    expect(closeMismatch([0], [Number.NaN], tol)).toMatch(/expected NaN/);
    expect(closeMismatch([Number.NaN], [0], tol)).toMatch(/is NaN/);
    expect(closeMismatch([-Infinity], [-Infinity], tol, 'lse', { lse: true })).toBeNull();
    expect(closeMismatch([-1e30], [-Infinity], tol, 'lse', { lse: true })).toMatch(/lse\[0\]/);
    expect(closeMismatch([10.005], [10], tol, 'lse', { lse: true })).toMatch(/lse\[0\]/); // rtol does not apply to lse
    expect(() => assertClose([2], [1], tol, 'x')).toThrow(/x\[0\] = 2/);
  });
  it('referenceMismatch: a reference result passes; a skew, a missing lse, a wrong shape are named', async () => {
    for (const layout of ['bhsd', 'bshd'] as const) {
      const req = makeRequest({ B: 2, Hq: 4, Hkv: 2, Sq: 9, Sk: 12, D: 4, Dv: 5, layout }, { kind: 'causal' });
      const got = await reference().attention(req);
      expect(referenceMismatch(req, got)).toBeNull();
      expect(() => assertMatchesReference(req, got, FLOAT32_TOLERANCE)).not.toThrow();
      const skew = { ...got, out: { ...got.out, data: got.out.data.map((x, n) => (n === 7 ? x + 0.01 : x)) } };
      expect(referenceMismatch(req, skew, FLOAT32_TOLERANCE, 'skewed')).toMatch(/^skewed: out\[7\]/);
      expect(() => assertMatchesReference(req, skew)).toThrow(/out\[7\]/);
      expect(referenceMismatch(req, { out: got.out })).toMatch(/lse missing/);
      expect(referenceMismatch(req, { ...got, out: { ...got.out, shape: [1, 2, 3, 4] } })).toMatch(/out shape/);
      expect(resultMismatch(got, got)).toBeNull();
    }
  });
  it('rejection: the typed error, or an Error for a resolve, an untyped rejection, a synchronous throw', async () => {
    const typed = new SparseAttentionError('ABORTED', 'signal: aborted', { field: 'signal' });
    expect(await rejection(Promise.reject(typed))).toBe(typed);
    await expect(rejection(Promise.resolve(1))).rejects.toThrow(/resolved/);
    await expect(rejection(Promise.reject(new Error('x')))).rejects.toThrow(/other than a SparseAttentionError/);
    await expect(
      rejection(() => {
        throw typed;
      }),
    ).rejects.toThrow(/threw synchronously/);
  });
});

describe('the module', () => {
  it('imports neither vitest nor Node built-ins (it runs in any test runner and in browsers)', () => {
    const dir = join(import.meta.dirname, '..', 'src', 'testing');
    for (const f of readdirSync(dir)) {
      const imports = [...readFileSync(join(dir, f), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
      for (const spec of imports) expect(spec, `${f} imports ${spec}`).toMatch(/^(\.\/|@sparse\/core(\/(backend|reference))?$)/);
    }
  });
});
