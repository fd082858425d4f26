import { fail } from './errors.js';

/** NumPy `.npy` arrays (format versions 1–3), shared by the CLI and the conformance package. */
export type NpyDtype = 'float32' | 'float64' | 'int32' | 'bool' | 'uint8';

export type NpyData = Float32Array | Float64Array | Int32Array | Uint8Array;

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  /** Row-major (C order) values; bool arrays are 0/1 bytes. */
  data: NpyData;
}

const DESCR: Record<string, { dtype: NpyDtype; size: number }> = {
  f4: { dtype: 'float32', size: 4 },
  f8: { dtype: 'float64', size: 8 },
  i4: { dtype: 'int32', size: 4 },
  b1: { dtype: 'bool', size: 1 },
  u1: { dtype: 'uint8', size: 1 },
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * The inside of the header's shape tuple, e.g. `1, 2, 3` or `10,` or nothing (a scalar). NumPy writes each size as a
 * decimal integer literal, so only those are sizes: `1e1`, `0x10`, `10.0` or `+5` are refused, not read as numbers.
 */
function parseShape(text: string, field: string): number[] {
  if (text.trim() === '') return []; // the empty tuple: a scalar
  const items = text.split(',').map((s) => s.trim());
  if (items.length > 1 && items[items.length - 1] === '') items.pop(); // Python's one trailing comma: `(10,)`
  for (const item of items)
    if (!/^\d+$/.test(item) || !Number.isSafeInteger(Number(item)))
      fail('INVALID_ARGUMENT', field, 'sizes must be decimal integer literals, as NumPy writes them', item);
  return items.map(Number);
}

/** Parses a `.npy` file. `name` is used in error messages (a path, or a field). */
export function readNpy(bytes: Uint8Array, name = 'npy'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((m, n) => bytes[n] !== m)) fail('INVALID_ARGUMENT', name, 'is not a NumPy .npy file (bad magic bytes)');
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail('INVALID_ARGUMENT', name, 'is truncated (no header length)');
    headerLen = view.getUint32(8, true);
    start = 12;
  } else fail('INVALID_ARGUMENT', name, 'has an unsupported .npy format version', major);
  if (start + headerLen > bytes.length) fail('INVALID_ARGUMENT', name, 'is truncated (header longer than the file)');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([<>|=])([a-z]\d+)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeText) fail('INVALID_ARGUMENT', name, 'has a malformed .npy header', header.trim());
  const kind = DESCR[descr[2]!];
  if (!kind)
    fail('INVALID_ARGUMENT', `${name}.dtype`, 'must be one of float32 (<f4), float64 (<f8), int32 (<i4), bool (|b1), uint8 (|u1)', descr[1]! + descr[2]!);
  if (fortran[1] === 'True') fail('INVALID_ARGUMENT', name, 'is stored in Fortran order; save it with numpy.ascontiguousarray first');
  const shape = parseShape(shapeText[1]!, `${name}.shape`);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  const byteLen = count * kind.size;
  if (dataStart + byteLen > bytes.length)
    fail('INVALID_ARGUMENT', name, `is truncated: shape ${JSON.stringify(shape)} needs ${byteLen} data bytes, the file has ${bytes.length - dataStart}`);
  const raw = bytes.slice(dataStart, dataStart + byteLen); // copy: aligned and owned
  const bigEndian = descr[1] === '>' && kind.size > 1;
  if (bigEndian) {
    for (let n = 0; n < byteLen; n += kind.size) raw.subarray(n, n + kind.size).reverse();
  }
  const data: NpyData =
    kind.dtype === 'float32'
      ? new Float32Array(raw.buffer)
      : kind.dtype === 'float64'
        ? new Float64Array(raw.buffer)
        : kind.dtype === 'int32'
          ? new Int32Array(raw.buffer)
          : raw;
  return { dtype: kind.dtype, shape, data };
}

function descrOf(dtype: NpyDtype): string {
  return { float32: '<f4', float64: '<f8', int32: '<i4', bool: '|b1', uint8: '|u1' }[dtype];
}

/** Serialises an array as a version 1.0 `.npy` file (header padded so the data starts 64-byte aligned). */
export function writeNpy(array: NpyArray): Uint8Array {
  const { dtype, shape, data } = array;
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) fail('INVALID_SHAPE', 'data', `length must equal the product of shape ${JSON.stringify(shape)} = ${count}; length`, data.length);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descrOf(dtype)}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const headerBytes = new TextEncoder().encode(header);
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(10 + headerBytes.length + body.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, headerBytes.length, true);
  out.set(headerBytes, 10);
  out.set(body, 10 + headerBytes.length);
  return out;
}

/** The row-major position of flat index `n` in `shape`, e.g. `[0, 0, 2, 1]`. */
function position(n: number, shape: readonly number[]): number[] {
  const at = new Array<number>(shape.length).fill(0);
  for (let d = shape.length - 1, rest = n; d >= 0; d--) {
    at[d] = rest % shape[d]!;
    rest = Math.floor(rest / shape[d]!);
  }
  return at;
}

/**
 * Reads a float tensor: float32 as is, float64 converted to float32. A finite float64 value that float32 cannot
 * hold (it would round to ±Infinity) is refused, naming its index; NaN and ±Infinity are values and stay as they are.
 */
export function npyToFloat32(array: NpyArray, name = 'npy'): Float32Array {
  if (array.dtype === 'float32') return array.data as Float32Array;
  if (array.dtype === 'float64') {
    const wide = array.data as Float64Array;
    const narrow = Float32Array.from(wide);
    for (let n = 0; n < narrow.length; n++) {
      if (Number.isFinite(narrow[n]!) || !Number.isFinite(wide[n]!)) continue;
      fail('INVALID_ARGUMENT', `${name}[${position(n, array.shape).join(', ')}]`, 'is beyond the float32 range (magnitude above 3.4028235e38)', wide[n]);
    }
    return narrow;
  }
  return fail('INVALID_ARGUMENT', `${name}.dtype`, 'must be float32 or float64', array.dtype);
}
