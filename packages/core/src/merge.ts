import { fail } from './errors.js';
import type { HostTensor } from './tensor.js';

/**
 * Combines two partial attentions over disjoint key sets (split-KV, ring / sequence parallelism):
 * out = (e^{lseA - m} · outA + e^{lseB - m} · outB) / (e^{lseA - m} + e^{lseB - m}), lse = m + log(…),
 * m = max(lseA, lseB). Rows empty on both sides stay 0 / -Infinity. Works on any layout whose rows of Dv
 * values are ordered like lse (bhsd: [B, H, S, Dv] with lse [B, H, S]); for bshd pass `layout: 'bshd'`.
 */
export function mergeAttention(
  outA: HostTensor,
  lseA: HostTensor,
  outB: HostTensor,
  lseB: HostTensor,
  options: { layout?: 'bhsd' | 'bshd' } = {},
): { out: HostTensor; lse: HostTensor } {
  const layout = options.layout ?? 'bhsd';
  const shape = outA.shape;
  if (shape.length !== 4) fail('INVALID_SHAPE', 'outA.shape', 'must have rank 4', shape);
  if (outB.shape.length !== 4 || outB.shape.some((x, n) => x !== shape[n]))
    fail('INVALID_SHAPE', 'outB.shape', `must equal outA.shape ${JSON.stringify(shape)}`, outB.shape);
  const [B, H, S] = layout === 'bhsd' ? [shape[0]!, shape[1]!, shape[2]!] : [shape[0]!, shape[2]!, shape[1]!];
  const Dv = shape[3]!;
  for (const [name, t] of [
    ['lseA', lseA],
    ['lseB', lseB],
  ] as const) {
    if (t.shape.length !== 3 || t.shape[0] !== B || t.shape[1] !== H || t.shape[2] !== S)
      fail('INVALID_SHAPE', `${name}.shape`, `must be [B, H, S] = ${JSON.stringify([B, H, S])}`, t.shape);
    if (t.data.length !== B * H * S) fail('INVALID_SHAPE', `${name}.data`, `length must be ${B * H * S}`, t.data.length);
  }
  if (outA.data.length !== B * H * S * Dv) fail('INVALID_SHAPE', 'outA.data', `length must be ${B * H * S * Dv}`, outA.data.length);
  if (outB.data.length !== B * H * S * Dv) fail('INVALID_SHAPE', 'outB.data', `length must be ${B * H * S * Dv}`, outB.data.length);
  const out = new Float32Array(outA.data.length);
  const lse = new Float32Array(B * H * S);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let s = 0; s < S; s++) {
        const r = (b * H + h) * S + s;
        const at = (layout === 'bhsd' ? r : (b * S + s) * H + h) * Dv;
        const a = lseA.data[r]!;
        const c = lseB.data[r]!;
        const m = Math.max(a, c);
        if (m === -Infinity) {
          lse[r] = -Infinity;
          continue;
        }
        const wa = Math.exp(a - m);
        const wb = Math.exp(c - m);
        const sum = wa + wb;
        for (let d = 0; d < Dv; d++) out[at + d] = (wa * outA.data[at + d]! + wb * outB.data[at + d]!) / sum;
        lse[r] = m + Math.log(sum);
      }
  return { out: { data: out, shape: [...shape] }, lse: { data: lse, shape: [B, H, S] } };
}
