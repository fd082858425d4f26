import { describe, expect, it } from 'vitest';
import { planAttention, residuePartition } from '../src/entry/backend.js';
import { blockedAttention64, referenceAttention, toResult } from '../src/entry/reference.js';
import { type AttentionRequest, type AttentionResult, MAX_PATTERN_DEPTH, type Pattern, reference, SparseAttentionError } from '../src/index.js';
import { qkv } from './helpers.js';

/** Both of core's references: the element-predicate rows and the BlockMask-driven loop (small tiles). */
const references: [string, (r: AttentionRequest) => AttentionResult][] = [
  ['referenceAttention', referenceAttention],
  ['blockedAttention64', (r) => toResult(blockedAttention64(r, { tiles: { blockQ: 8, blockK: 8 } }))],
];

function rowIsNaN(r: AttentionResult, i: number, Dv: number): boolean {
  const row = r.out.data.subarray(i * Dv, (i + 1) * Dv);
  return row.every(Number.isNaN) && Number.isNaN(r.lse!.data[i]);
}

function nanRows(r: AttentionResult, S: number, Dv: number): number[] {
  return Array.from({ length: S }, (_, i) => i).filter((i) => rowIsNaN(r, i, Dv));
}

function setKey(t: { data: Float32Array }, j: number, D: number, value: number) {
  t.data.fill(value, j * D, (j + 1) * D);
}

function expectRowsEqual(a: AttentionResult, b: AttentionResult, rows: number[], Dv: number) {
  for (const i of rows) {
    expect(Array.from(a.out.data.subarray(i * Dv, (i + 1) * Dv))).toEqual(Array.from(b.out.data.subarray(i * Dv, (i + 1) * Dv)));
    expect(a.lse!.data[i]).toBe(b.lse!.data[i]);
  }
}

describe.each(references)('the non-finite rule on %s', (_name, run) => {
  const S = 64;
  const D = 8;
  const base = () => ({ ...qkv({ Sq: S, D, seed: 7 }), returnLse: true });

  it('NaN in k at key 3 under local(2, 2): rows 1–5 are NaN, every other row is untouched', () => {
    const clean = run({ ...base(), pattern: { kind: 'local', left: 2, right: 2 } });
    const r = base();
    setKey(r.k, 3, D, Number.NaN);
    const dirty = run({ ...r, pattern: { kind: 'local', left: 2, right: 2 } });
    expect(nanRows(dirty, S, D)).toEqual([1, 2, 3, 4, 5]);
    expectRowsEqual(dirty, clean, [0, ...Array.from({ length: S - 6 }, (_, n) => n + 6)], D);
  });

  it('Inf in v of a key makes exactly the rows that attend it NaN', () => {
    const r = base();
    r.v.data[10 * D + 2] = Number.POSITIVE_INFINITY;
    const out = run({ ...r, pattern: { kind: 'local', left: 1, right: 0 } });
    expect(nanRows(out, S, D)).toEqual([10, 11]);
  });

  it('NaN or Inf in the padding of a documents pattern never reaches a real token', () => {
    const r = base();
    for (let j = 50; j < S; j++) setKey(r.k, j, D, j % 2 ? Number.NaN : Number.POSITIVE_INFINITY);
    for (let j = 50; j < S; j++) setKey(r.v, j, D, Number.NaN);
    const out = run({ ...r, pattern: { kind: 'documents', offsets: [0, 20, 50] } });
    expect(nanRows(out, S, D)).toEqual([]);
    for (let i = 0; i < 50; i++) expect(Number.isFinite(out.lse!.data[i])).toBe(true);
    for (let i = 50; i < S; i++) {
      expect(out.lse!.data[i]).toBe(Number.NEGATIVE_INFINITY);
      expect(Array.from(out.out.data.subarray(i * D, (i + 1) * D))).toEqual(new Array(D).fill(0));
    }
  });

  it('NaN in one query row makes that row NaN only', () => {
    const r = base();
    r.q.data[17 * D] = Number.NaN;
    expect(nanRows(run({ ...r, pattern: { kind: 'causal' } }), S, D)).toEqual([17]);
  });

  it('finite inputs whose scores overflow float32 give NaN rows; large finite scores stay exact', () => {
    const r = base();
    r.q.data.fill(1e30);
    r.k.data.fill(1e30);
    expect(nanRows(run({ ...r, pattern: { kind: 'causal' } }), S, D)).toEqual(Array.from({ length: S }, (_, i) => i));
    // Scores near ±3e32 are finite in float32: softmax over them is well defined (uniform here).
    for (const sign of [1, -1]) {
      const t = base();
      t.q.data.fill(sign * 1e16);
      t.k.data.fill(1e16);
      const out = run({ ...t, pattern: { kind: 'causal' }, scale: 3 / D });
      expect(nanRows(out, S, D)).toEqual([]);
      const want = referenceAttention({ ...t, q: { ...t.q, data: new Float32Array(t.q.data.length) }, pattern: { kind: 'causal' } });
      for (let n = 0; n < want.out.data.length; n++) expect(out.out.data[n]).toBeCloseTo(want.out.data[n]!, 5);
    }
  });

  it('top-k reads every candidate of within: a NaN candidate makes the row NaN, a key outside within does not', () => {
    const r = base();
    setKey(r.k, 30, D, Number.NaN);
    const out = run({ ...r, pattern: { kind: 'topk', k: 2, within: { kind: 'local', left: 4, right: 0 } } });
    expect(nanRows(out, S, D)).toEqual([30, 31, 32, 33, 34]);
  });

  it('a row with no allowed key is out 0, lse -Infinity, even with non-finite values around it', () => {
    const r = base();
    r.k.data.fill(Number.NaN);
    const out = run({ ...r, pattern: { kind: 'global', queries: [], keys: [] } });
    expect(Array.from(out.lse!.data)).toEqual(new Array(S).fill(Number.NEGATIVE_INFINITY));
    expect(out.out.data.every((x) => x === 0)).toBe(true);
  });
});

describe('pattern validation never overflows or hangs', () => {
  const typed = (f: () => unknown): SparseAttentionError => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(SparseAttentionError);
      return e as SparseAttentionError;
    }
    throw new Error('expected a SparseAttentionError');
  };
  const request = (pattern: unknown): AttentionRequest => ({ ...qkv({ Sq: 4 }), pattern: pattern as Pattern });

  it('a pattern nested 2000 deep is INVALID_PATTERN at the level where the limit is reached', () => {
    let p: Pattern = { kind: 'causal' };
    for (let n = 0; n < 2000; n++) p = { kind: 'not', of: p };
    const e = typed(() => planAttention(request(p)));
    expect(e.code).toBe('INVALID_PATTERN');
    expect(e.field).toBe(`pattern${'.of'.repeat(MAX_PATTERN_DEPTH)}`);
    expect(e.message).toMatch(/nested deeper than 256 levels/);
    expect(reference().supports(request(p))).toMatch(/nested deeper than 256 levels/);
  });

  it('a pattern that contains itself is INVALID_PATTERN, not a RangeError', () => {
    const p: { kind: 'union'; of: unknown[] } = { kind: 'union', of: [{ kind: 'causal' }] };
    p.of.push({ kind: 'not', of: p });
    const e = typed(() => planAttention(request(p)));
    expect(e.code).toBe('INVALID_PATTERN');
    expect(e.field).toBe('pattern.of[1].of');
    expect(e.message).toMatch(/contains itself/);
  });

  it('a shared sub-pattern repeated into 2^40 tree nodes is refused quickly', () => {
    let p: Pattern = { kind: 'causal' };
    for (let n = 0; n < 40; n++) p = { kind: 'union', of: [p, p] };
    const t0 = performance.now();
    const e = typed(() => planAttention(request(p)));
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(e.message).toMatch(/larger than 100000 nodes/);
  });

  it('a DAG within the limits is valid (shared sub-patterns are not cycles)', () => {
    const leaf: Pattern = { kind: 'local', left: 1, right: 1 };
    expect(() => planAttention(request({ kind: 'union', of: [leaf, { kind: 'not', of: leaf }, leaf] }))).not.toThrow();
  });
});

describe('inputs are the caller’s again when a call returns', () => {
  it('a detached input is INVALID_ARGUMENT naming its field', () => {
    const r = qkv({ Sq: 8 });
    structuredClone(r.k.data.buffer, { transfer: [r.k.data.buffer] });
    try {
      planAttention({ ...r, pattern: { kind: 'causal' } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SparseAttentionError);
      expect((e as SparseAttentionError).code).toBe('INVALID_ARGUMENT');
      expect((e as SparseAttentionError).field).toBe('k.data');
    }
  });

  it('the plan keeps a private copy of the patterns (shared ones stay shared)', () => {
    const shared: Pattern = { kind: 'explicit', rowPtr: [0, 1, 2, 3, 4], colIdx: [0, 1, 2, 3] };
    const pattern = [shared, shared];
    const plan = planAttention({ ...qkv({ Sq: 4, Hq: 2 }), pattern });
    (shared as { colIdx: number[] }).colIdx[0] = 3;
    expect(plan.patterns[0]).toEqual({ kind: 'explicit', rowPtr: [0, 1, 2, 3, 4], colIdx: [0, 1, 2, 3] });
    expect(plan.patterns[0]).toBe(plan.patterns[1]);
  });

  it('a pattern behind a Proxy (reactive UI state) is accepted and copied; a getter is read once', async () => {
    const r = { ...qkv({ Sq: 12, Hq: 2 }), returnLse: true };
    const plain = referenceAttention({ ...r, pattern: { kind: 'local', left: 2, right: 1 } });
    const proxied = new Proxy({ kind: 'local', left: 2, right: 1 } as Pattern, {});
    expect(reference().supports({ ...r, pattern: proxied })).toBe(true);
    expect(Array.from((await reference().attention({ ...r, pattern: [proxied, proxied] })).out.data)).toEqual(Array.from(plain.out.data));
    let reads = 0;
    const moving = {
      kind: 'local',
      get left() {
        return reads++ === 0 ? 2 : -5;
      },
      right: 1,
    } as unknown as Pattern;
    const plan = planAttention({ ...r, pattern: moving });
    expect(plan.patterns[0]).toEqual({ kind: 'local', left: 2, right: 1 });
    expect(reads).toBe(1);
  });

  it('a dilated call partitioned by residue reads every input before it returns', async () => {
    const r = { ...qkv({ Sq: 40, D: 4, seed: 3 }), pattern: { kind: 'dilated', dilation: 3, left: 2, right: 2 } as Pattern };
    const want = referenceAttention(r);
    const copy = { q: { ...r.q, data: r.q.data.slice() }, k: { ...r.k, data: r.k.data.slice() }, v: { ...r.v, data: r.v.data.slice() } };
    const request = { ...r, ...copy };
    // The kit gathers every residue group's rows before attention() returns; the groups run after an await.
    const backend = reference({ partitionDilation: true });
    const pending = backend.attention(request);
    copy.q.data.fill(5);
    structuredClone(copy.k.data.buffer, { transfer: [copy.k.data.buffer] });
    expect(Array.from((await pending).out.data)).toEqual(Array.from(want.out.data));
  });
});

describe('dilation far beyond the sequence', () => {
  it('residuePartition of dilation 2^31 - 1 over 16 tokens has 16 groups and takes no time', () => {
    const r = { ...qkv({ Sq: 16, D: 4 }), pattern: { kind: 'dilated', dilation: 2 ** 31 - 1 } as Pattern };
    const t0 = performance.now();
    const part = residuePartition(planAttention(r));
    expect(performance.now() - t0).toBeLessThan(100);
    expect(part!.groups.map((g) => g.residue)).toEqual(Array.from({ length: 16 }, (_, n) => n));
  });

  it('with a negative offset the groups are the residues the queries have, in residue order', () => {
    const r = { ...qkv({ Sq: 6, Sk: 4, D: 4 }), pattern: { kind: 'dilated', dilation: 1000 } as Pattern };
    const part = residuePartition(planAttention(r))!;
    // offset = Sk - Sq = -2: positions -2 … 3 have residues 998, 999, 0, 1, 2, 3.
    expect(part.groups.map((g) => [g.residue, g.q0])).toEqual([
      [0, 2],
      [1, 3],
      [2, 4],
      [3, 5],
      [998, 0],
      [999, 1],
    ]);
  });

  it('the partitioned call equals the whole call for a huge dilation', async () => {
    const r = { ...qkv({ Sq: 16, D: 4 }), pattern: { kind: 'dilated', dilation: 2 ** 31 - 1 } as Pattern, returnLse: true };
    const whole = referenceAttention(r);
    const backend = reference({ partitionDilation: true });
    const parts = await backend.attention(r);
    expect(backend.lastRun()!.pieces).toBe(16);
    expect(Array.from(parts.out.data)).toEqual(Array.from(whole.out.data));
    expect(Array.from(parts.lse!.data)).toEqual(Array.from(whole.lse!.data));
  });
});

describe('the reference backend', () => {
  it('refuses a call over its memory limit in supports() and attention() with the same sentence', async () => {
    // out is [1, 1, 65536, 4096]: 256 Mi floats, 3 GiB in float64 and float32 — over the default 2 GiB.
    const r: AttentionRequest = {
      q: { data: new Float32Array(65536), shape: [1, 1, 65536, 1] },
      k: { data: new Float32Array(1), shape: [1, 1, 1, 1] },
      v: { data: new Float32Array(4096), shape: [1, 1, 1, 4096] },
      pattern: { kind: 'dense' },
    };
    const backend = reference();
    const said = backend.supports(r);
    expect(said).toMatch(/over its limit of 2147483648/);
    await expect(backend.attention(r)).rejects.toMatchObject({ code: 'RESOURCE_LIMIT', message: said });
    expect(reference({ maxMemoryBytes: 2 ** 33 }).supports(r)).toBe(true);
  });

  it('dispose() is final: probe, supports and attention all say so', async () => {
    const backend = reference();
    const r = { ...qkv({ Sq: 4 }), pattern: { kind: 'causal' } as Pattern };
    await backend.attention(r);
    await backend.dispose();
    await backend.dispose();
    expect(await backend.probe()).toMatchObject({ available: false, reason: expect.stringMatching(/disposed/) });
    expect(backend.supports(r)).toMatch(/disposed/);
    await expect(backend.attention(r)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
  });

  it('an aborted call is ABORTED with field signal', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(reference().attention({ ...qkv({ Sq: 4 }), pattern: { kind: 'causal' } }, { signal: ac.signal })).rejects.toMatchObject({
      code: 'ABORTED',
      field: 'signal',
    });
  });

  it('bad options fail at construction', () => {
    expect(() => reference({ tiles: { blockQ: 0 } })).toThrow(/^tiles\.blockQ: must be an integer/);
    expect(() => reference({ blockQ: 8 } as never)).toThrow(/^blockQ: is not an option of this backend \(tile sizes go in tiles/);
    expect(() => reference({ maskCacheSize: -1 })).toThrow(/^maskCacheSize:/);
    expect(() => reference({ partitionDilation: 'yes' } as never)).toThrow(/^partitionDilation: must be a boolean/);
    expect(() => reference({ maxMemoryBytes: -1 })).toThrow(/maxMemoryBytes/);
  });
});
