import { describe, expect, it } from 'vitest';
import { npyToFloat32, readNpy, SparseAttentionError, writeNpy } from '../src/index.js';

/** A float32 .npy file whose header's shape tuple reads `shapeText`. */
function withShape(shapeText: string, values: number): Uint8Array {
  const good = new TextDecoder('latin1').decode(writeNpy({ dtype: 'float32', shape: [values], data: new Float32Array(values) }));
  const text = good.replace(`(${values},)`, shapeText);
  return Uint8Array.from(text, (ch) => ch.charCodeAt(0));
}

function thrown(f: () => unknown): SparseAttentionError {
  try {
    f();
  } catch (e) {
    return e as SparseAttentionError;
  }
  throw new Error('expected a throw');
}

describe('readNpy: the shape tuple', () => {
  it('takes decimal integer literals, a trailing comma and the empty tuple', () => {
    expect(readNpy(withShape('(10,)', 10)).shape).toEqual([10]);
    expect(readNpy(withShape('(2, 5)', 10)).shape).toEqual([2, 5]);
    expect(readNpy(withShape('(2, 5,)', 10)).shape).toEqual([2, 5]);
    expect(readNpy(withShape('()', 10)).shape).toEqual([]);
  });

  for (const size of ['1e1', '0x0a', '10.0', '+10', '1_0', ' ', '-10', '10L']) {
    it(`refuses ${JSON.stringify(size)} with INVALID_ARGUMENT naming the shape field`, () => {
      const e = thrown(() => readNpy(withShape(`(${size},)`, 10), 'k.npy'));
      expect(e).toBeInstanceOf(SparseAttentionError);
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.field).toBe('k.npy.shape');
      expect(e.message).toMatch(/^k\.npy\.shape: sizes must be decimal integer literals/);
    });
  }
});

describe('npyToFloat32', () => {
  it('refuses a finite float64 that float32 cannot hold, naming its index and value', () => {
    const data = new Float64Array(24);
    data[9] = -1e39;
    const e = thrown(() => npyToFloat32({ dtype: 'float64', shape: [1, 1, 6, 4], data }, 'v.npy'));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.field).toBe('v.npy[0, 0, 2, 1]');
    expect(e.message).toBe('v.npy[0, 0, 2, 1]: is beyond the float32 range (magnitude above 3.4028235e38) (got -1e+39)');
  });

  it('keeps NaN, ±Infinity and values that round to the largest float32', () => {
    const max = 3.4028235677973362e38; // just below the midpoint to 2^128: rounds to the largest float32
    const got = npyToFloat32({ dtype: 'float64', shape: [4], data: new Float64Array([Number.NaN, Infinity, -Infinity, max]) });
    expect(Array.from(got)).toEqual([Number.NaN, Infinity, -Infinity, 3.4028234663852886e38]);
  });
});
