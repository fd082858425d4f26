import { describe, expect, it } from 'vitest';
import { planAttention, planAttentionShapes } from '../src/entry/backend.js';
import { type AttentionRequest, parsePattern, SparseAttentionError } from '../src/index.js';
import { qkv } from './helpers.js';

const base = (): AttentionRequest => ({ ...qkv({ B: 1, Hq: 4, Hkv: 2, Sq: 8, Sk: 8, D: 4 }), pattern: { kind: 'causal' } });

function rejects(req: AttentionRequest, code: string, message: RegExp) {
  let err: unknown;
  try {
    planAttention(req);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SparseAttentionError);
  expect((err as SparseAttentionError).code).toBe(code);
  expect((err as SparseAttentionError).message).toMatch(message);
  return err as SparseAttentionError;
}

describe('request validation: one test per rule, each naming the field and value', () => {
  it('wrong rank', () => {
    const r = base();
    const e = rejects({ ...r, q: { data: r.q.data, shape: [4, 8, 4] } }, 'INVALID_SHAPE', /^q\.shape: must have rank 4.*rank 3.*\[4, 8, 4\]/);
    expect(e.field).toBe('q.shape');
  });
  it('data length not matching the shape', () => {
    const r = base();
    rejects(
      { ...r, k: { data: new Float32Array(10), shape: r.k.shape } },
      'INVALID_SHAPE',
      /^k\.data: length must equal the product of k\.shape \[1,2,8,4\] = 64; length \(got 10\)/,
    );
  });
  it('data that is not a Float32Array', () => {
    const r = base();
    rejects(
      { ...r, v: { data: new Float64Array(64) as unknown as Float32Array, shape: r.v.shape } },
      'INVALID_ARGUMENT',
      /^v\.data: must be a Float32Array \(got Float64Array\(64\)\)/,
    );
  });
  it('non-integer and non-positive sizes', () => {
    const r = base();
    rejects({ ...r, q: { data: r.q.data, shape: [1, 4, 8.5, 4] } }, 'INVALID_SHAPE', /^q\.shape\[2\]: must be a positive integer.*\(got 8\.5\)/);
    rejects({ ...r, q: { data: new Float32Array(0), shape: [1, 4, 0, 4] } }, 'INVALID_SHAPE', /^q\.shape\[2\]: must be a positive integer.*\(got 0\)/);
  });
  it('mismatched heads between k and v', () => {
    const r = base();
    rejects({ ...r, v: { data: new Float32Array(128), shape: [1, 4, 8, 4] } }, 'INVALID_SHAPE', /^v\.shape\[1\]: heads must equal k's \(2\) \(got 4\)/);
  });
  it('GQA where kv heads do not divide the query heads', () => {
    const r = base();
    const kv = qkv({ Hq: 3, Sq: 8, D: 4 });
    rejects({ ...r, k: kv.k, v: kv.v }, 'INVALID_SHAPE', /^k\.shape\[1\]: kv heads must divide the query heads \(4\) for GQA\/MQA \(got 3\)/);
  });
  it('mismatched head dim and batch', () => {
    const r = base();
    rejects({ ...r, k: { data: new Float32Array(80), shape: [1, 2, 8, 5] } }, 'INVALID_SHAPE', /^k\.shape\[3\]: head dim must equal q's \(4\) \(got 5\)/);
    rejects({ ...r, k: { data: new Float32Array(128), shape: [2, 2, 8, 4] } }, 'INVALID_SHAPE', /^k\.shape\[0\]: batch must equal q's \(1\) \(got 2\)/);
  });
  it('NaN or infinite scale', () => {
    rejects({ ...base(), scale: Number.NaN }, 'INVALID_ARGUMENT', /^scale: must be a finite number \(got NaN\)/);
    rejects({ ...base(), scale: Infinity }, 'INVALID_ARGUMENT', /^scale: must be a finite number \(got Infinity\)/);
  });
  it('non-integer query offset and unknown layout', () => {
    rejects({ ...base(), queryOffset: 1.5 }, 'INVALID_ARGUMENT', /^queryOffset: must be an integer \(got 1\.5\)/);
    rejects({ ...base(), layout: 'hbsd' as 'bhsd' }, 'INVALID_ARGUMENT', /^layout: must be "bhsd" or "bshd" \(got "hbsd"\)/);
  });
  it('negative windows', () => {
    rejects(
      { ...base(), pattern: { kind: 'local', left: -1, right: 2 } },
      'INVALID_PATTERN',
      /^pattern\.left: must be an integer in \[0, 2147483647\] \(got -1\)/,
    );
    rejects(
      { ...base(), pattern: { kind: 'union', of: [{ kind: 'causal' }, { kind: 'dilated', dilation: 0 }] } },
      'INVALID_PATTERN',
      /^pattern\.of\[1\]\.dilation: must be an integer in \[1, /,
    );
  });
  it('non-integer pattern sizes', () => {
    rejects({ ...base(), pattern: { kind: 'local', left: 2.5, right: 2 } }, 'INVALID_PATTERN', /^pattern\.left: .*\(got 2\.5\)/);
  });
  it('global tokens out of range', () => {
    rejects(
      { ...base(), pattern: { kind: 'global', tokens: [0, 8] } },
      'INVALID_PATTERN',
      /^pattern\.tokens\[1\]: a global token \(a key position\) must be < 8 \(got 8\)/,
    );
    rejects(
      { ...base(), pattern: { kind: 'global', queries: [9], keys: [] } },
      'INVALID_PATTERN',
      /^pattern\.queries\[0\]: a global query index must be < 8 \(got 9\)/,
    );
  });
  it('offsets not increasing, not starting at 0, or past the sequence', () => {
    rejects(
      { ...base(), pattern: { kind: 'documents', offsets: [0, 5, 3] } },
      'INVALID_PATTERN',
      /^pattern\.offsets\[2\]: must be non-decreasing \(previous is 5\) \(got 3\)/,
    );
    rejects({ ...base(), pattern: { kind: 'documents', offsets: [1, 5] } }, 'INVALID_PATTERN', /^pattern\.offsets\[0\]: must be 0/);
    rejects(
      { ...base(), pattern: { kind: 'documents', offsets: [0, 9] } },
      'INVALID_PATTERN',
      /^pattern\.offsets\[1\]: the last offset must be <= Sk \(8\) \(got 9\)/,
    );
  });
  it('unknown kind, unknown field, and content-based kinds below the root', () => {
    rejects(
      { ...base(), pattern: { kind: 'sliding' } as never },
      'INVALID_PATTERN',
      /^pattern\.kind: unknown pattern kind; expected one of dense, causal, .* \(got "sliding"\)/,
    );
    rejects(
      { ...base(), pattern: { kind: 'local', lefft: 2 } as never },
      'INVALID_PATTERN',
      /^pattern\.lefft: is not a field of a "local" pattern \(fields: left, right\)/,
    );
    rejects(
      { ...base(), pattern: { kind: 'union', of: [{ kind: 'topk', k: 2 }] } },
      'INVALID_PATTERN',
      /^pattern\.of\[0\]: a content-based "topk" pattern must be the root/,
    );
  });
  it('neighborhood needs Sq == Sk and offset 0', () => {
    const r = base();
    rejects(
      { ...r, pattern: { kind: 'neighborhood', kernel: 3 }, queryOffset: 1 },
      'INVALID_PATTERN',
      /^pattern: neighborhood attention needs Sq == Sk and query offset 0 \(got Sq=8, Sk=8, offset=1\)/,
    );
  });
  it('per-head pattern arrays need one pattern per query head', () => {
    rejects(
      { ...base(), pattern: [{ kind: 'causal' }] },
      'INVALID_PATTERN',
      /^pattern: a per-head pattern array must have one pattern per query head \(4\); length \(got 1\)/,
    );
    rejects(
      { ...base(), pattern: [{ kind: 'causal' }, { kind: 'causal' }, { kind: 'causal' }, { kind: 'local', left: -2 }] },
      'INVALID_PATTERN',
      /^pattern\[3\]\.left:/,
    );
  });
  it('explicit CSR rules', () => {
    rejects(
      { ...base(), pattern: { kind: 'explicit', rowPtr: [0, 1], colIdx: [0] } },
      'INVALID_PATTERN',
      /^pattern\.rowPtr: must have Sq \+ 1 = 9 entries; length \(got 2\)/,
    );
    rejects(
      { ...base(), pattern: { kind: 'explicit', rowPtr: [0, 2], colIdx: [3, 1] } },
      'INVALID_PATTERN',
      /^pattern\.colIdx\[1\]: keys of row 0 must be strictly increasing/,
    );
  });
  it('cluster centroids of the wrong width or zero', () => {
    rejects(
      { ...base(), pattern: { kind: 'cluster', centroids: [[1, 0]] } },
      'INVALID_PATTERN',
      /^pattern\.centroids\[0\]: must have D = 4 entries .* \(got 2\)/,
    );
    rejects({ ...base(), pattern: { kind: 'cluster', centroids: [[0, 0, 0, 0]] } }, 'INVALID_PATTERN', /^pattern\.centroids\[0\]: must not be the zero vector/);
  });
  it('a JSON text that is not a pattern', () => {
    expect(() => parsePattern('{"kind": "local", "left": 1,')).toThrow(/^pattern: is not valid JSON/);
    expect(() => parsePattern('[1, 2]')).toThrow(/^pattern: must be a pattern object with a "kind" \(got \[1, 2\]\)/);
    expect(() => parsePattern('"causal"')).toThrow(/^pattern: must be a pattern object/);
    expect(parsePattern('{"kind":"local","left":2,"right":0}')).toEqual({ kind: 'local', left: 2, right: 0 });
  });
});

describe('planAttentionShapes (resident entry points)', () => {
  it('gives the same plan as planAttention from shapes alone', () => {
    const r = base();
    const fromData = planAttention(r);
    const fromShapes = planAttentionShapes({ ...r, q: r.q.shape, k: r.k.shape, v: r.v.shape });
    expect(fromShapes).toEqual(fromData);
  });
  it('applies the same rules and messages', () => {
    const r = base();
    expect(() => planAttentionShapes({ ...r, q: [1, 4, 8], k: r.k.shape, v: r.v.shape })).toThrow(/^q\.shape: must have rank 4/);
    expect(() => planAttentionShapes({ ...r, q: r.q.shape, k: [1, 3, 8, 4], v: [1, 3, 8, 4] })).toThrow(/^k\.shape\[1\]: kv heads must divide/);
    expect(() => planAttentionShapes({ ...r, q: r.q.shape, k: r.k.shape, v: r.v.shape, pattern: { kind: 'local', left: -1 } })).toThrow(/^pattern\.left/);
  });
});
