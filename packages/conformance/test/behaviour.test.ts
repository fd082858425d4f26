// The behaviour suite itself: it passes a well-behaved backend with device tensors, and each of its checks catches
// the backend that gets its part wrong.
import { type AttentionRequest, type Backend, type HostTensor, reference, SparseAttentionError } from '@sparse/core';
import { defineBackend, planAttentionShapes, resolveOptions } from '@sparse/core/backend';
import { blockedAttention64, toResult } from '@sparse/core/reference';
import { describe, expect, it } from 'vitest';
import { checkAbortDuring } from '../src/behaviour/abort.js';
import { BehaviourFailure } from '../src/behaviour/assert.js';
import { BEHAVIOUR_LEAK_CHECK, behaviourChecks } from '../src/behaviour/checks.js';
import { checkBurst } from '../src/behaviour/concurrency.js';
import { behaviourContext } from '../src/behaviour/context.js';
import { checkDisposedFresh } from '../src/behaviour/dispose.js';
import { BAD_INPUTS, checkBadInput } from '../src/behaviour/inputs.js';
import { checkDilatedPieces, checkLastRun } from '../src/behaviour/last-run.js';
import { checkOwnership } from '../src/behaviour/ownership.js';
import { checkResidentAborted, checkResidentAgrees } from '../src/behaviour/resident.js';
import { checkTolerance } from '../src/behaviour/tolerance.js';
import type { BehaviourOptions, ResidentBackend } from '../src/behaviour/types.js';
import * as browserEntry from '../src/browser.js';
import { describeBehaviour } from '../src/vitest.js';

/** A "device tensor" for the test: a private copy of a host tensor in a box. */
interface Boxed {
  box: HostTensor;
}
const box = (t: HostTensor): Boxed => ({ box: { data: t.data.slice(), shape: Array.from(t.shape) } });

/** A backend on the kit with an attentionResident over boxed tensors (float64 reference underneath). */
function boxedBackend(o: { partitionDilation?: boolean } = {}): ResidentBackend<Boxed> {
  return defineBackend(
    {
      name: 'boxed',
      start: async () => ({}),
      describe: () => 'boxes in memory',
      run: async (_ctx, request, plan, signal) => toResult(blockedAttention64(request, { plan, ...(signal ? { signal } : {}) })),
      release: async () => undefined,
    },
    resolveOptions(o),
    (kit) => ({
      attentionResident(request: Omit<AttentionRequest, 'q' | 'k' | 'v'> & { q: Boxed; k: Boxed; v: Boxed }, opts?: { signal?: AbortSignal }) {
        return kit.call(async () => {
          const host = { ...request, q: request.q.box, k: request.k.box, v: request.v.box };
          const plan = planAttentionShapes({ ...request, q: host.q.shape, k: host.k.shape, v: host.v.shape });
          const r = toResult(blockedAttention64(host, { plan }));
          return { out: box(r.out), ...(r.lse ? { lse: box(r.lse) } : {}) };
        }, opts?.signal);
      },
    }),
  );
}

const hooks = {
  upload: (t: HostTensor) => box(t),
  download: async (t: Boxed) => t.box,
};

describeBehaviour<Boxed>({ name: 'boxed tensors', create: (o) => boxedBackend(o), resident: hooks });

/** reference() with some of its methods replaced. */
function broken(patch: (inner: Backend) => Partial<Backend> & Record<string, unknown>, options = {}): () => Backend {
  return () => {
    const inner = reference(options);
    return { ...inner, name: inner.name, ...patch(inner) } as Backend;
  };
}

async function failsWith(create: () => Backend, body: (ctx: ReturnType<typeof behaviourContext>) => Promise<void>, extra: Partial<BehaviourOptions> = {}) {
  const options: BehaviourOptions = { name: 'broken', create, ...extra };
  const started = create();
  const ctx = behaviourContext(options, started);
  try {
    const e = await body(ctx).then(
      () => null,
      (x: unknown) => x,
    );
    expect(e, 'the check passed a broken backend').toBeInstanceOf(BehaviourFailure);
    return (e as Error).message;
  } finally {
    await started.dispose();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const leftNegative = BAD_INPUTS.find((b) => b.field === 'pattern.left')!;

describe('each check fails the backend that gets its part wrong', () => {
  it('inputs: a synchronous throw, a wrong field, a supports() that disagrees', async () => {
    const sync = broken((inner) => ({
      attention(r, o) {
        if ((r.pattern as { left?: number }).left === -1) throw new SparseAttentionError('INVALID_PATTERN', 'no', { field: 'pattern.left' });
        return inner.attention(r, o);
      },
    }));
    expect(await failsWith(sync, (c) => checkBadInput(c.started, leftNegative))).toMatch(/threw synchronously/);
    const field = broken((inner) => ({
      attention: (r, o) => inner.attention(r, o).catch((e) => Promise.reject(new SparseAttentionError(e.code, e.message, { field: 'pattern' }))),
    }));
    expect(await failsWith(field, (c) => checkBadInput(c.started, leftNegative))).toMatch(/field 'pattern'.*expected INVALID_PATTERN field 'pattern.left'/);
    const supports = broken(() => ({ supports: () => true }));
    expect(await failsWith(supports, (c) => checkBadInput(c.started, leftNegative))).toMatch(/supports\(.*\) returned true/);
  });

  it('abort: a call that never settles once aborted', async () => {
    const hang = broken((inner) => ({ attention: (r, o) => (o?.signal ? new Promise(() => undefined) : inner.attention(r, o)) }));
    const small = { slowCall: { Sq: 64, H: 1, D: 8 }, settleMs: 200 };
    expect(await failsWith(hang, checkAbortDuring, small)).toMatch(/did not settle within 200 ms/);
  });

  it('dispose: a backend that keeps running after dispose()', async () => {
    const immortal = broken(() => ({ dispose: async () => undefined }));
    expect(await failsWith(immortal, checkDisposedFresh)).toMatch(/attention\(\) after dispose\(\): resolved/);
  });

  it('concurrency: a backend whose calls in flight share state', async () => {
    let current: AttentionRequest | undefined;
    const racy = broken((inner) => ({
      async attention(r, o) {
        current = r;
        await sleep(1);
        return inner.attention(current, o);
      },
    }));
    expect(await failsWith(racy, checkBurst)).toMatch(/in a burst differs from the same call in turn/);
  });

  it('ownership: a backend that reads the caller inputs after an await', async () => {
    const late = broken((inner) => ({
      async attention(r, o) {
        await sleep(0);
        return inner.attention(r, o);
      },
    }));
    expect(await failsWith(late, checkOwnership)).toMatch(/inputs mutated right after attention\(\) returned/);
  });

  it('tolerance and lastRun: a NaN tolerance, a lastRun that stays null, a dilated call in one piece', async () => {
    const nan = broken(() => ({ tolerance: () => ({ atol: Number.NaN, rtol: 1e-4, lseAtol: 1e-5 }) }));
    expect(await failsWith(nan, checkTolerance)).toMatch(/atol = NaN/);
    const silent = broken(() => ({ lastRun: () => null }));
    expect(await failsWith(silent, checkLastRun)).toMatch(/lastRun\(\) is null after a call/);
    const whole = () => reference(); // ignores { partitionDilation: true }
    expect(await failsWith(whole, checkDilatedPieces)).toMatch(/ran as 1 piece/);
  });

  it('resident: results that disagree with attention(), an aborted signal that runs anyway', async () => {
    const wrong = () => {
      const b = boxedBackend();
      return {
        ...b,
        attentionResident: async (r: Parameters<typeof b.attentionResident>[0]) => {
          const x = await b.attentionResident(r);
          x.out.box.data[0]! += 0.01;
          return x;
        },
      };
    };
    expect(await failsWith(wrong, checkResidentAgrees, { resident: hooks })).toMatch(/differs from attention\(\): out\[0\]/);
    const deaf = () => {
      const b = boxedBackend();
      return { ...b, attentionResident: (r: Parameters<typeof b.attentionResident>[0]) => b.attentionResident(r) };
    };
    expect(await failsWith(deaf, checkResidentAborted, { resident: hooks })).toMatch(/aborted signal: resolved/);
  });
});

describe('runBehaviour: the same checks without vitest, each reported by name', () => {
  const BASE = { slowCall: { Sq: 256, H: 1, D: 16 } };

  it('lists every check once, named after its part, the resident part included, from the vitest-free entry', () => {
    const checks = behaviourChecks();
    expect(new Set(checks.map((c) => c.name)).size).toBe(checks.length);
    expect(checks.length).toBe(BAD_INPUTS.length + 13);
    for (const c of checks) expect(c.name.startsWith(`${c.part}: `), c.name).toBe(true);
    expect(checks.filter((c) => c.part === 'resident')).toHaveLength(3);
    expect(browserEntry.behaviourChecks().map((c) => c.name)).toEqual(checks.map((c) => c.name));
    expect(browserEntry.runBehaviour).toBeTypeOf('function');
  });

  it('passes a well-behaved backend with device tensors: every check, in order, then the undisposed count', async () => {
    const run = await browserEntry.runBehaviour<Boxed>({ name: 'boxed', create: (o) => boxedBackend(o), resident: hooks, ...BASE });
    expect(run.available).toBe(true);
    expect(run.outcomes.map((o) => o.name)).toEqual([...behaviourChecks().map((c) => c.name), BEHAVIOUR_LEAK_CHECK]);
    for (const o of run.outcomes) expect(o.status, `${o.name}: ${o.message}`).toBe('pass');
  });

  it('skips the resident part without hooks and the parts in `skip`, with the reason', async () => {
    const run = await browserEntry.runBehaviour({ name: 'reference', create: (o) => reference(o), skip: { abort: 'too slow here' }, ...BASE });
    const skipped = run.outcomes.filter((o) => o.status === 'skip');
    expect(skipped.map((o) => o.name)).toEqual(
      behaviourChecks()
        .filter((c) => c.part === 'resident' || c.part === 'abort')
        .map((c) => c.name),
    );
    expect(skipped.filter((o) => o.message === 'too slow here')).toHaveLength(2);
    expect(skipped.filter((o) => o.message === 'no resident hooks given')).toHaveLength(3);
    expect(run.outcomes.filter((o) => o.status === 'fail')).toEqual([]);
  });

  it('reports the check a broken backend fails, in its words, and runs the rest', async () => {
    const silent = broken(() => ({ lastRun: () => null }));
    const run = await browserEntry.runBehaviour({ name: 'silent', create: silent, ...BASE }, (c) => c.part !== 'abort');
    const failed = run.outcomes.filter((o) => o.status === 'fail');
    expect(failed.map((o) => o.name)).toEqual(
      behaviourChecks()
        .filter((c) => c.part === 'lastRun')
        .map((c) => c.name),
    );
    expect(failed[0]!.message).toMatch(/lastRun\(\) is null after a call/);
    expect(run.outcomes.some((o) => o.name.startsWith('abort:'))).toBe(false);
    expect(run.outcomes.filter((o) => o.status === 'pass').length).toBeGreaterThan(BAD_INPUTS.length);
  });

  it('runs no check on an unavailable backend, says why, and disposes it', async () => {
    let disposed = 0;
    const down = broken((inner) => ({
      probe: async () => ({ available: false, reason: 'no device here' }),
      dispose: async () => {
        disposed++;
        await inner.dispose();
      },
    }));
    expect(await browserEntry.runBehaviour({ name: 'down', create: down })).toEqual({ available: false, reason: 'no device here', outcomes: [] });
    expect(disposed).toBe(1);
  });
});
