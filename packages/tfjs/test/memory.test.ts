import { causal, local, type Pattern } from '@sparse/core';
import { describe, expect, it } from 'vitest';
import { tfjs } from '../src/index.js';
import { caseRequest, TF_BACKENDS, tf, useBackend } from './helpers.js';

const PATTERNS: Pattern[] = [
  local(3),
  causal(),
  { kind: 'topk', k: 3, within: causal() },
  {
    kind: 'cluster',
    centroids: [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
    ],
  },
];

for (const backend of TF_BACKENDS) {
  describe(`tf.js ${backend}: no leaks`, () => {
    // 1000 calls on wasm (cheap calls there); the same loop, shorter, on cpu (its other take mode and strategy).
    const calls = backend === 'wasm' ? 1000 : 250;
    it(`numTensors and numBytes are unchanged after ${calls} resident calls (chunks, GQA, per-head, topk, cluster, lse)`, async () => {
      await useBackend(backend);
      const q = tf.randomNormal([1, 4, 24, 4]);
      const k = tf.randomNormal([1, 2, 24, 4]);
      const v = tf.randomNormal([1, 2, 24, 4]);
      const be = tfjs({ tf, backendName: backend, tiles: { blockQ: 16, blockK: 16 } });
      const before = tf.memory();
      for (let call = 0; call < calls; call++) {
        const pattern = call % 5 === 4 ? [causal(), local(1), local(1), causal()] : PATTERNS[call % 4]!;
        const r = await be.attentionResident({ q, k, v, pattern, returnLse: call % 2 === 0 });
        r.out.dispose();
        r.lse?.dispose();
      }
      const after = tf.memory();
      expect(after.numTensors).toBe(before.numTensors);
      expect(after.numBytes).toBe(before.numBytes);
      tf.dispose([q, k, v]);
      await be.dispose();
    });

    it('the host Backend leaves no tensor behind either', async () => {
      await useBackend(backend);
      const be = tfjs({ tf, backendName: backend, tiles: { blockQ: 8, blockK: 8 } });
      expect((await be.probe()).available).toBe(true);
      const request = caseRequest({ name: 'x', Hq: 4, Hkv: 2, Sq: 20, pattern: { kind: 'topk', k: 2, within: local(4) } });
      const before = tf.memory().numTensors;
      for (let call = 0; call < 50; call++) await be.attention(request);
      await expect(be.attention({ ...request, pattern: { kind: 'local', left: -1 } })).rejects.toThrow();
      expect(tf.memory().numTensors).toBe(before);
      await be.dispose();
    });

    it('leaves only its results, which compose with tf.js ops in a tidy: only what the tidy returns survives', async () => {
      await useBackend(backend);
      const be = tfjs({ tf, backendName: backend });
      const before = tf.memory().numTensors;
      const q = tf.randomNormal([1, 2, 16, 4]);
      const k = tf.randomNormal([1, 2, 16, 4]);
      const v = tf.randomNormal([1, 2, 16, 4]);
      const { out, lse } = await be.attentionResident({ q, k, v, pattern: causal(), returnLse: true });
      expect(tf.memory().numTensors).toBe(before + 5); // q, k, v, out, lse
      // A model-like chain on the resident output.
      const kept = tf.tidy(() => tf.sum(tf.add(tf.mul(out, tf.scalar(2)), tf.expandDims(lse!, 3))));
      tf.dispose([q, k, v, out, lse!]);
      expect(tf.memory().numTensors).toBe(before + 1);
      expect(Number.isFinite((await kept.data())[0])).toBe(true);
      kept.dispose();
      expect(tf.memory().numTensors).toBe(before);
      await be.dispose();
    });
  });
}
