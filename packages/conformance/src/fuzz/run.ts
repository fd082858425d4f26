import { type AttentionRequest, type AttentionResult, type Backend, isSparseAttentionError } from '@sparse/core';
import { planAttention } from '@sparse/core/backend';
import fc from 'fast-check';
import { compareWithReference, FLOAT32_FUZZ_TOLERANCE, type FuzzTolerance } from './bounds.js';
import { brokenArb } from './invalid.js';
import { type RequestSpace, requestArb } from './requests.js';

export interface FuzzOptions {
  /** Requests per property (default 500). */
  runs?: number;
  /** fast-check seed; the same seed draws the same requests for every backend. */
  seed?: number;
  space?: RequestSpace;
  tolerance?: Partial<FuzzTolerance>;
}

/** The outcome of one property: how many requests ran, and the first failure with its smallest counterexample. */
export interface FuzzOutcome {
  property: string;
  runs: number;
  /** Runs that reached the comparison: valid requests the backend supports, breakages that left the request invalid. */
  checked: number;
  passed: boolean;
  /** Why it failed, with the shrunk request, in words. */
  failure?: string;
  ms: number;
}

function describeRequest(r: unknown): string {
  const text = JSON.stringify(r, (key, v) => {
    if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as Float32Array).length})`;
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    if (key === 'of' && Array.isArray(v) && v.length > 4) return `[${v.length} patterns]`;
    return v;
  });
  return text.length > 600 ? `${text.slice(0, 600)}…` : text;
}

async function check<T>(property: string, arb: fc.Arbitrary<T>, body: (x: T) => Promise<boolean>, o: FuzzOptions): Promise<FuzzOutcome> {
  const runs = o.runs ?? 500;
  const started = performance.now();
  let checked = 0;
  const counted = async (x: T) => {
    if (await body(x)) checked++;
  };
  const result = await fc.check(fc.asyncProperty(arb, counted), { numRuns: runs, seed: o.seed ?? 42, endOnFailure: false });
  const ms = performance.now() - started;
  if (!result.failed) return { property, runs: result.numRuns, checked, passed: true, ms };
  const error = result.errorInstance as Error | undefined;
  const failure = `${error?.message ?? String(result.errorInstance)}\n  request: ${describeRequest(result.counterexample?.[0])}\n  seed ${result.seed}, path "${result.counterexample ? result.counterexamplePath : ''}"`;
  return { property, runs: result.numRuns, checked, passed: false, failure, ms };
}

const fail = (message: string): never => {
  throw new Error(message);
};

/** Valid requests: the backend's result equals the float64 reference within a precision-aware bound. */
export function fuzzValid(backend: Backend, o: FuzzOptions = {}): Promise<FuzzOutcome> {
  const tol = { ...FLOAT32_FUZZ_TOLERANCE, ...o.tolerance };
  return check(
    'valid requests match the float64 reference',
    requestArb(o.space),
    async ({ request }) => {
      const said = backend.supports(request);
      if (said !== true) return false; // a stated limit, not a failure (the invalid property checks it is typed)
      let result: AttentionResult;
      try {
        result = await backend.attention(request);
      } catch (e) {
        return fail(`attention() rejected a request supports() accepted: ${isSparseAttentionError(e) ? `${e.code} ${e.message}` : String(e)}`);
      }
      const why = compareWithReference(request, result, tol);
      if (why) fail(why);
      return true;
    },
    o,
  );
}

/** Invalid requests: supports() says why, and attention() rejects with the code and field core's validation gives. */
export function fuzzInvalid(backend: Backend, o: FuzzOptions = {}): Promise<FuzzOutcome> {
  return check(
    'invalid requests get the typed error core gives',
    brokenArb(requestArb(o.space)),
    async ({ breakage, request }) => {
      let expected: { code: string; field: string | undefined } | undefined;
      try {
        planAttention(request as AttentionRequest);
      } catch (e) {
        if (!isSparseAttentionError(e)) fail(`core's validation threw an untyped ${String(e)}`);
        expected = { code: (e as { code: string }).code, field: (e as { field?: string }).field };
      }
      fc.pre(expected !== undefined); // the breakage happened to leave this request valid
      const said = backend.supports(request as AttentionRequest);
      if (said === true) fail(`${breakage}: supports() accepted it`);
      try {
        await backend.attention(request as AttentionRequest);
      } catch (e) {
        if (!isSparseAttentionError(e)) return fail(`${breakage}: attention() threw an untyped ${(e as Error)?.name}: ${(e as Error)?.message}`);
        if (e.code !== expected!.code || e.field !== expected!.field)
          fail(`${breakage}: got ${e.code} on ${e.field} (${e.message}), core says ${expected!.code} on ${expected!.field}`);
        return true;
      }
      return fail(`${breakage}: attention() resolved`);
    },
    o,
  );
}

function sameBits(a: AttentionResult, b: AttentionResult): boolean {
  const eq = (x: Float32Array, y: Float32Array) => x.length === y.length && x.every((v, n) => Object.is(v, y[n]) || (Number.isNaN(v) && Number.isNaN(y[n]!)));
  return eq(a.out.data, b.out.data) && (!a.lse || eq(a.lse.data, b.lse!.data));
}

/** `inFlight` random requests at once give bit-for-bit the results they give one at a time. */
export async function fuzzConcurrency(backend: Backend, o: FuzzOptions & { inFlight?: number } = {}): Promise<FuzzOutcome> {
  const started = performance.now();
  const n = o.inFlight ?? 32;
  const requests = fc.sample(requestArb(o.space), { numRuns: n, seed: o.seed ?? 42 }).map((x) => x.request);
  const runnable = requests.filter((r) => backend.supports(r) === true);
  const sequential: AttentionResult[] = [];
  for (const r of runnable) sequential.push(await backend.attention(r));
  const together = await Promise.all(runnable.map((r) => backend.attention(r)));
  const bad = together.findIndex((r, i) => !sameBits(r, sequential[i]!));
  const property = `${n} calls in flight equal the same calls one at a time`;
  const ms = performance.now() - started;
  if (bad < 0) return { property, runs: n, checked: runnable.length, passed: true, ms };
  return { property, runs: n, checked: runnable.length, passed: false, failure: `call ${bad} differs: ${describeRequest(runnable[bad])}`, ms };
}

/** Counters a backend can report to the leak check (wasm memory pages, live GPU buffers, tf tensors, …). */
export type ResourceCounter = () => Record<string, number> | Promise<Record<string, number>>;

/**
 * `calls` calls (valid and invalid, in turn) leave the process's memory and the backend's own counters where they
 * were after a warm-up: RSS within `rssSlackBytes`, every counter at or below its value after the warm-up.
 */
export async function fuzzLeaks(
  backend: Backend,
  o: FuzzOptions & { calls?: number; resources?: ResourceCounter; rssSlackBytes?: number } = {},
): Promise<FuzzOutcome> {
  const started = performance.now();
  const calls = o.calls ?? 1000;
  const pool = fc.sample(requestArb({ ...o.space, shared: false }), { numRuns: 16, seed: o.seed ?? 42 }).map((x) => x.request);
  const broken = fc.sample(brokenArb(requestArb(o.space)), { numRuns: 16, seed: o.seed ?? 42 }).map((x) => x.request as AttentionRequest);
  const one = async (n: number) => {
    if (n % 4 === 3) await backend.attention(broken[n % broken.length]!).catch(() => undefined);
    else if (backend.supports(pool[n % pool.length]!) === true) await backend.attention(pool[n % pool.length]!);
  };
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let n = 0; n < 100; n++) await one(n);
  gc?.();
  const rss0 = process.memoryUsage().rss;
  const before = (await o.resources?.()) ?? {};
  for (let n = 0; n < calls; n++) await one(n);
  gc?.();
  const rss1 = process.memoryUsage().rss;
  const after = (await o.resources?.()) ?? {};
  const property = `${calls} calls leak nothing`;
  const ms = performance.now() - started;
  const slack = o.rssSlackBytes ?? 96 * 2 ** 20;
  const grown = Object.keys(before).filter((k) => (after[k] ?? 0) > before[k]!);
  if (rss1 - rss0 > slack)
    return { property, runs: calls, checked: calls, passed: false, failure: `RSS grew by ${((rss1 - rss0) / 2 ** 20).toFixed(1)} MiB`, ms };
  if (grown.length)
    return { property, runs: calls, checked: calls, passed: false, failure: grown.map((k) => `${k}: ${before[k]} → ${after[k]}`).join(', '), ms };
  return { property, runs: calls, checked: calls, passed: true, ms };
}

/** Every fuzz property for one backend, in order. */
export async function fuzzBackend(backend: Backend, o: FuzzOptions & { leakCalls?: number; resources?: ResourceCounter } = {}): Promise<FuzzOutcome[]> {
  return [
    await fuzzValid(backend, o),
    await fuzzInvalid(backend, o),
    await fuzzConcurrency(backend, o),
    await fuzzLeaks(backend, { ...o, ...(o.leakCalls !== undefined ? { calls: o.leakCalls } : {}) }),
  ];
}
