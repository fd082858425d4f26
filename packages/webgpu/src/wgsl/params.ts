/**
 * The uniform block every kernel reads, written once per dispatch. One list drives both the WGSL struct and the
 * host-side packing, so the two cannot drift apart. Every field is a u32 except `scale` (f32) and `negInf`
 * (the bits of -Infinity, read at run time because WGSL cannot spell an infinite constant).
 */
export const PARAM_FIELDS = [
  'Hq',
  'Hkv',
  'Sq',
  'Sk',
  'group',
  'scale',
  'flags',
  'radix',
  'qsB',
  'qsH',
  'qsS',
  'qBase',
  'ksB',
  'ksH',
  'ksS',
  'kBase',
  'vsB',
  'vsH',
  'vsS',
  'vBase',
  'osB',
  'osH',
  'osS',
  'oBase',
  'b0',
  'h0',
  'qb0',
  'negInf',
  'stateOff',
  'labelOff',
  'tokQ0',
  'tokQn',
  'tokK0',
  'tokKn',
  'tokOff',
  // Where each section of the kernels' table starts (pack.ts), in u32 words.
  'rowPtrAt',
  'colIdxAt',
  'partialIdxAt',
  'bitsAt',
  'centroidsAt',
] as const;

export type ParamField = (typeof PARAM_FIELDS)[number];
export type Params = Record<ParamField, number>;

/** Bytes of one params slot; uniform binding offsets must be multiples of 256. */
export const PARAMS_SLOT_BYTES = 256;

const FLOAT_FIELDS: ReadonlySet<ParamField> = new Set(['scale']);

/** Bits of `flags`. */
export const FLAGS = { lse: 1 } as const;

/** The Params struct (bound as P, bindings.ts) and the FLAG_ constants. */
export function paramsWgsl(): string {
  const members = PARAM_FIELDS.map((f) => `  ${f}: ${FLOAT_FIELDS.has(f) ? 'f32' : 'u32'},`).join('\n');
  const flags = Object.entries(FLAGS).map(([f, v]) => `const FLAG_${f.toUpperCase()} = ${v}u;`);
  return `struct Params {\n${members}\n}\n${flags.join('\n')}\n`;
}

/** Writes one params slot into `u32` (a view of the whole uniform upload) at slot `slot`. */
export function packParams(params: Params, u32: Uint32Array, f32: Float32Array, slot: number): void {
  const base = (slot * PARAMS_SLOT_BYTES) / 4;
  PARAM_FIELDS.forEach((f, n) => {
    const value = params[f];
    if (FLOAT_FIELDS.has(f)) f32[base + n] = value;
    else u32[base + n] = value >>> 0;
  });
}

/** Bits of -Infinity as f32. */
export const NEG_INF_BITS = 0xff800000;
