import { DataType, encodeModel, floatTensor, type ValueInfoDef } from './model.js';

/**
 * The attention graphs the onnxruntime peers run, built in code (no model files, no downloads).
 */

export interface DenseMaskModelShape {
  /** kv heads; query heads sharing one kv head are folded into the row axis (no k/v copy per query head). */
  headsKv: number;
  /** query rows per kv head: group × rows. */
  rows: number;
  seqK: number;
  headDim: number;
  headDimV: number;
  /** 1 for one mask shared by every head, headsKv for a per-head mask. */
  maskHeads: number;
  scale: number;
}

/**
 * Dense attention with an additive mask, the way an ONNX user writes it:
 * out = Softmax(MatMul(q, Transpose(k)) · scale + mask) · v, with
 * q [1, Hkv, rows, D], k [1, Hkv, Sk, D], v [1, Hkv, Sk, Dv], mask [maskHeads, rows, Sk] (0 or a large negative),
 * out [1, Hkv, rows, Dv].
 */
export function denseMaskAttentionModel(s: DenseMaskModelShape): Uint8Array {
  const F = DataType.FLOAT;
  return encodeModel({
    opsets: [{ domain: '', version: 17 }],
    graph: {
      name: 'dense_mask_attention',
      initializers: [floatTensor('scale', [], [s.scale])],
      inputs: [
        { name: 'q', elemType: F, shape: [1, s.headsKv, s.rows, s.headDim] },
        { name: 'k', elemType: F, shape: [1, s.headsKv, s.seqK, s.headDim] },
        { name: 'v', elemType: F, shape: [1, s.headsKv, s.seqK, s.headDimV] },
        { name: 'mask', elemType: F, shape: [s.maskHeads, s.rows, s.seqK] },
      ],
      outputs: [{ name: 'out', elemType: F, shape: [1, s.headsKv, s.rows, s.headDimV] }],
      nodes: [
        { opType: 'Transpose', inputs: ['k'], outputs: ['kT'], attributes: { perm: { ints: [0, 1, 3, 2] } } },
        { opType: 'MatMul', inputs: ['q', 'kT'], outputs: ['qk'] },
        { opType: 'Mul', inputs: ['qk', 'scale'], outputs: ['scores'] },
        { opType: 'Add', inputs: ['scores', 'mask'], outputs: ['masked'] },
        { opType: 'Softmax', inputs: ['masked'], outputs: ['probs'], attributes: { axis: { int: -1 } } },
        { opType: 'MatMul', inputs: ['probs', 'v'], outputs: ['out'] },
      ],
    },
  });
}

export interface GqaModelShape {
  headsQ: number;
  headsKv: number;
  headDim: number;
  /** New tokens in this call (query rows). */
  rows: number;
  /** Tokens already in the kv cache before them (0: a prompt without past_key / past_value). */
  past: number;
  /** onnxruntime's `local_window_size` w (w keys with self on onnxruntime >= 1.23); -1 = plain causal. */
  localWindowSize: number;
  scale: number;
}

/**
 * onnxruntime's contrib `GroupQueryAttention` (domain com.microsoft), causal with `local_window_size`. Since
 * onnxruntime 1.23 (PR #25927) the window counts the query's own token: w keys p - w + 1 … p, i.e.
 * local{left: w - 1, right: 0} (HF's `sliding_window` w); before it, w + 1 keys. The tests pin it on the
 * installed version.
 * query [1, rows, Hq·D], key/value [1, rows, Hkv·D] (the new tokens, BSNH flattened), optional past_key /
 * past_value [1, Hkv, past, D] (BNSH), seqlens_k [1] = past + rows - 1, total_sequence_length (scalar) = past + rows.
 */
export function gqaModel(s: GqaModelShape): Uint8Array {
  const F = DataType.FLOAT;
  const I32 = DataType.INT32;
  const hasPast = s.past > 0;
  const inputs: ValueInfoDef[] = [
    { name: 'query', elemType: F, shape: [1, s.rows, s.headsQ * s.headDim] },
    { name: 'key', elemType: F, shape: [1, s.rows, s.headsKv * s.headDim] },
    { name: 'value', elemType: F, shape: [1, s.rows, s.headsKv * s.headDim] },
  ];
  if (hasPast) {
    inputs.push({ name: 'past_key', elemType: F, shape: [1, s.headsKv, s.past, s.headDim] });
    inputs.push({ name: 'past_value', elemType: F, shape: [1, s.headsKv, s.past, s.headDim] });
  }
  inputs.push({ name: 'seqlens_k', elemType: I32, shape: [1] });
  inputs.push({ name: 'total_sequence_length', elemType: I32, shape: [] });
  return encodeModel({
    opsets: [
      { domain: '', version: 17 },
      { domain: 'com.microsoft', version: 1 },
    ],
    graph: {
      name: 'group_query_attention',
      inputs,
      outputs: [
        { name: 'output', elemType: F, shape: [1, s.rows, s.headsQ * s.headDim] },
        // Symbolic: onnxruntime's shape inference sizes present by the past buffer (shared-buffer mode).
        { name: 'present_key', elemType: F, shape: [1, s.headsKv, 'present_len', s.headDim] },
        { name: 'present_value', elemType: F, shape: [1, s.headsKv, 'present_len', s.headDim] },
      ],
      nodes: [
        {
          opType: 'GroupQueryAttention',
          domain: 'com.microsoft',
          inputs: ['query', 'key', 'value', hasPast ? 'past_key' : '', hasPast ? 'past_value' : '', 'seqlens_k', 'total_sequence_length'],
          outputs: ['output', 'present_key', 'present_value'],
          attributes: {
            num_heads: { int: s.headsQ },
            kv_num_heads: { int: s.headsKv },
            local_window_size: { int: s.localWindowSize },
            scale: { float: s.scale },
          },
        },
      ],
    },
  });
}

export interface GqaDecodeModelShape {
  headsQ: number;
  headsKv: number;
  headDim: number;
  /** New tokens Sq per call. */
  rows: number;
  /** Sequence positions the kv cache buffers hold (max_sequence_length); at least Sk = past + Sq. */
  capacity: number;
  localWindowSize: number;
  scale: number;
}

/**
 * GroupQueryAttention for decode in its shared past/present buffer mode (past_present_share_buffer): past_key /
 * past_value are the full-capacity cache buffers [1, Hkv, capacity, D] (BNSH), and the caller passes the same
 * tensors as the present_key / present_value outputs, so present aliases past. onnxruntime's CPU kernel takes that
 * mode when the two pointers are equal: it writes the new tokens' K and V in place at positions past … past + Sq − 1
 * (past = seqlens_k + 1 − Sq) instead of copying the cache, and reads keys 0 … seqlens_k of the buffer. Feeds:
 * seqlens_k [1] = Sk − 1, total_sequence_length (scalar) = Sk. The graph is gqaModel's with past = capacity.
 */
export function gqaDecodeModel(s: GqaDecodeModelShape): Uint8Array {
  return gqaModel({
    headsQ: s.headsQ,
    headsKv: s.headsKv,
    headDim: s.headDim,
    rows: s.rows,
    past: s.capacity,
    localWindowSize: s.localWindowSize,
    scale: s.scale,
  });
}
