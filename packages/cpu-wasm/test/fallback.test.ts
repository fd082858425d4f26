import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Without SharedArrayBuffer (a browser page that is not cross-origin isolated; here Node started with
// --no-harmony-sharedarraybuffer) the backend runs single-threaded on the calling thread and says so in probe().
describe('single-threaded fallback', () => {
  it('is chosen and reported when SharedArrayBuffer is unavailable, and computes the same result', () => {
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const core = import.meta.resolve('@sparse/core/reference');
    const script = `
      import { cpuWasm } from ${JSON.stringify(dist)};
      import { referenceAttention } from ${JSON.stringify(core)};
      const be = cpuWasm({ threads: 4 });
      const probe = await be.probe();
      const t = (seed) => ({ data: Float32Array.from({ length: 2 * 50 * 8 }, (_, i) => Math.sin(i * seed)), shape: [1, 2, 50, 8] });
      const req = { q: t(1), k: t(2), v: t(3), pattern: { kind: 'causal' } };
      const got = await be.attention(req);
      const ref = referenceAttention(req);
      let err = 0;
      for (let i = 0; i < ref.out.data.length; i++) err = Math.max(err, Math.abs(got.out.data[i] - ref.out.data[i]));
      console.log(JSON.stringify({ sab: typeof SharedArrayBuffer, probe, info: be.lastRun(), err }));
      await be.dispose();
    `;
    const r = spawnSync(process.execPath, ['--no-harmony-sharedarraybuffer', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim());
    expect(out.sab).toBe('undefined');
    expect(out.probe.available).toBe(true);
    expect(out.probe.device).toMatch(/single-threaded/);
    expect(out.probe.device).toMatch(/SharedArrayBuffer is unavailable/);
    expect(out.info).toMatchObject({ mode: 'inline', threads: 1 });
    expect(out.err).toBeLessThan(1e-5);
  });
});
