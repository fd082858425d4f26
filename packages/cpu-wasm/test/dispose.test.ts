// dispose() is final and idempotent; calls made before it finish, later ones are refused, nothing hangs.

import { assertMatchesReference, makeRequest, rejection } from '@sparse/conformance/testing';
import { describe, expect, it } from 'vitest';
import { cpuWasm } from '../dist/index.js';

describe.each([
  ['2 threads', { threads: 2 }],
  ['inline', { inline: true }],
])('dispose (%s)', (_label, options) => {
  const small = makeRequest({ Hq: 2, Sq: 40, D: 8 }, { kind: 'local', left: 4, right: 4 });
  const long = makeRequest({ Hq: 4, Sq: 512, D: 64 }, { kind: 'dense' });

  it('is final: probe, supports and attention all say the backend was disposed', async () => {
    const backend = cpuWasm(options);
    assertMatchesReference(small, await backend.attention(small));
    const last = backend.lastRun();
    await backend.dispose();
    await backend.dispose();
    const probe = await backend.probe();
    expect(probe.available).toBe(false);
    const reason = (probe as { reason: string }).reason;
    expect(reason).toMatch(/disposed/);
    expect(backend.supports(small)).toBe(reason);
    const e = await rejection(backend.attention(small));
    expect(e.code).toBe('BACKEND_UNAVAILABLE');
    expect(e.message).toBe(reason);
    expect(backend.lastRun()).toBe(last); // nothing ran since
  });

  it('calls in flight when it begins finish; it resolves after them, and twice is the same promise', async () => {
    const backend = cpuWasm(options);
    const calls = [backend.attention(long), backend.attention(small), backend.probe()];
    const first = backend.dispose();
    const second = backend.dispose();
    const late = rejection(backend.attention(small));
    const [a, b, probe] = await Promise.all(calls);
    assertMatchesReference(long, a as never);
    assertMatchesReference(small, b as never);
    expect(probe).toMatchObject({ available: true });
    await Promise.all([first, second]);
    expect((await late).code).toBe('BACKEND_UNAVAILABLE');
  });

  it('a backend disposed before its first call never starts', async () => {
    const backend = cpuWasm(options);
    await backend.dispose();
    expect((await rejection(backend.attention(small))).code).toBe('BACKEND_UNAVAILABLE');
    expect(backend.lastRun()).toBeNull();
    expect(await backend.probe()).toMatchObject({ available: false });
  });
});
