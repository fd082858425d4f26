// The check every backend gets: a causal and a local pattern, compared with core's float64 reference.
import { causal, local } from '@sparse/core';
import { referenceAttention } from '@sparse/core/reference';

const TOLERANCE = 1e-4;

function tensor(shape, seed) {
  const n = shape.reduce((a, b) => a * b, 1);
  return { data: Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed)), shape };
}

/** Probes `backend`, runs both patterns, returns { pass, maxError, device }; the caller disposes. */
export async function check(backend) {
  const shape = [1, 2, 64, 16];
  const probe = await backend.probe();
  if (!probe.available) throw new Error(`probe: ${probe.reason}`);
  let maxError = 0;
  for (const pattern of [causal(), local(4, 4)]) {
    const request = { q: tensor(shape, 1), k: tensor(shape, 2), v: tensor(shape, 3), pattern };
    const got = await backend.attention(request);
    const want = referenceAttention(request);
    for (let i = 0; i < want.out.data.length; i++) maxError = Math.max(maxError, Math.abs(got.out.data[i] - want.out.data[i]));
  }
  return { pass: maxError <= TOLERANCE, maxError, device: probe.device };
}
