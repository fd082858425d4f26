import { fromOrtLocalWindow, fromSlidingWindow, local, type Pattern } from '@sparse/core';
import { referenceAttention } from '@sparse/core/reference';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { firstRows, fromBshd, lastRows, makeInputs, toBshd } from '../src/data.js';
import { denseMask } from '../src/dense-mask.js';
import { denseMaskAttentionModel, gqaModel } from '../src/onnx/attention-models.js';
import { encodeModel } from '../src/onnx/model.js';
import { ProtoWriter } from '../src/onnx/protobuf.js';

function maxErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!));
  return e;
}

const hex = (u: Uint8Array) => Buffer.from(u).toString('hex');

describe('protobuf writer', () => {
  it('encodes varints, negative int64, floats and strings as protobuf does', () => {
    expect(hex(new ProtoWriter().int(1, 150).finish())).toBe('089601');
    expect(hex(new ProtoWriter().int(3, -1).finish())).toBe('18ffffffffffffffffff01');
    expect(hex(new ProtoWriter().float(2, 1).finish())).toBe('150000803f');
    expect(hex(new ProtoWriter().string(4, 'ab').finish())).toBe('22026162');
    expect(hex(new ProtoWriter().message(7, (m) => m.int(1, 1)).finish())).toBe('3a020801');
  });

  it('writes a ModelProto onnxruntime loads (an Identity graph)', async () => {
    const bytes = encodeModel({
      opsets: [{ domain: '', version: 17 }],
      graph: {
        name: 'id',
        inputs: [{ name: 'x', elemType: 1, shape: [2, 'n'] }],
        outputs: [{ name: 'y', elemType: 1, shape: [2, 'n'] }],
        nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
      },
    });
    const s = await ort.InferenceSession.create(bytes);
    const r = await s.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]) });
    expect(Array.from(r.y!.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    await s.release();
  });
});

describe('dense attention + additive mask model', () => {
  const cases: { name: string; pattern: Pattern; rows: number }[] = [
    { name: 'local window, all rows', pattern: local(5, 2), rows: 48 },
    { name: 'Longformer-like union, last 16 rows', pattern: { kind: 'union', of: [local(4), { kind: 'global', tokens: [0, 1] }] }, rows: 16 },
    { name: 'top-k (per-head mask)', pattern: { kind: 'topk', k: 5, within: local(8) }, rows: 48 },
  ];
  for (const { name, pattern, rows } of cases) {
    it(`matches core's referenceAttention with GQA 4:2 (${name})`, async () => {
      const N = 48;
      const D = 8;
      const inputs = makeInputs({ seq: N, headDim: D, headsQ: 4, headsKv: 2 });
      const scale = 1 / Math.sqrt(D);
      const mask = denseMask(pattern, inputs, rows, scale);
      const session = await ort.InferenceSession.create(
        denseMaskAttentionModel({ headsKv: 2, rows: 2 * rows, seqK: N, headDim: D, headDimV: D, maskHeads: mask.heads, scale }),
      );
      const q = lastRows(inputs.q, rows);
      const out = await session.run({
        q: new ort.Tensor('float32', q.data, [1, 2, 2 * rows, D]),
        k: new ort.Tensor('float32', inputs.k.data, [1, 2, N, D]),
        v: new ort.Tensor('float32', inputs.v.data, [1, 2, N, D]),
        mask: new ort.Tensor('float32', mask.data, [mask.heads, 2 * rows, N]),
      });
      const ref = referenceAttention({ q, k: inputs.k, v: inputs.v, pattern });
      expect(maxErr(out.out!.data as Float32Array, ref.out.data)).toBeLessThan(1e-5);
      await session.release();
    });
  }
});

describe('GroupQueryAttention with local_window_size (onnxruntime-node 1.30)', () => {
  const N = 40;
  const D = 8;
  const Hq = 4;
  const Hkv = 2;
  const w = 6;
  const inputs = makeInputs({ seq: N, headDim: D, headsQ: Hq, headsKv: Hkv });

  async function runGqa(rows: number): Promise<Float32Array> {
    const past = N - rows;
    const session = await ort.InferenceSession.create(
      gqaModel({ headsQ: Hq, headsKv: Hkv, headDim: D, rows, past, localWindowSize: w, scale: 1 / Math.sqrt(D) }),
      { logSeverityLevel: 3 },
    );
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
      query: new ort.Tensor('float32', toBshd(lastRows(inputs.q, rows)), [1, rows, Hq * D]),
      key: new ort.Tensor('float32', toBshd(lastRows(inputs.k, rows)), [1, rows, Hkv * D]),
      value: new ort.Tensor('float32', toBshd(lastRows(inputs.v, rows)), [1, rows, Hkv * D]),
      seqlens_k: new ort.Tensor('int32', Int32Array.from([N - 1]), [1]),
      total_sequence_length: new ort.Tensor('int32', Int32Array.from([N]), []),
    };
    if (past > 0) {
      feeds.past_key = new ort.Tensor('float32', firstRows(inputs.k, past).data, [1, Hkv, past, D]);
      feeds.past_value = new ort.Tensor('float32', firstRows(inputs.v, past).data, [1, Hkv, past, D]);
    }
    const r = await session.run(feeds);
    await session.release();
    return fromBshd(r.output!.data as Float32Array, 1, rows, Hq, D);
  }

  const ref = (rows: number, pattern: Pattern) => referenceAttention({ q: lastRows(inputs.q, rows), k: inputs.k, v: inputs.v, pattern }).out.data;

  for (const rows of [N, 12]) {
    it(`keeps w keys including self: local{left: w-1, right: 0} = HF sliding_window w (${rows === N ? 'prompt' : 'new tokens after a kv cache'})`, async () => {
      const out = await runGqa(rows);
      expect(fromSlidingWindow(w)).toEqual(local(w - 1, 0));
      expect(maxErr(out, ref(rows, fromSlidingWindow(w)))).toBeLessThan(1e-5);
      // Pinned off-by-one: core's fromOrtLocalWindow(w) follows onnxruntime >= 1.23 (w keys incl. self); the
      // pre-1.23 convention (w + 1 keys) does not match this onnxruntime.
      expect(maxErr(out, ref(rows, fromOrtLocalWindow(w)))).toBeLessThan(1e-5);
      expect(maxErr(out, ref(rows, fromOrtLocalWindow(w, { before123: true })))).toBeGreaterThan(1e-3);
    });
  }
});
