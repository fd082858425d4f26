/**
 * The browser test page. It loads the built package as a page without a bundler would (native ES modules and an
 * import map; dist/worker.js and dist/*.wasm found through `new URL(…, import.meta.url)`), runs the backend in
 * whatever mode the page allows (module Web Workers over a shared memory when cross-origin isolated, the inline
 * fallback otherwise) over the conformance cases the server lists, with each build of the kernel (relaxed SIMD, which
 * kernel 'auto' picks in Chromium, and SIMD128 forced), then the fault drills, and leaves the report on window.__report
 * for the test runner.
 */
import { type CaseManifest, type CaseOutcome, caseFromFiles, type GoldenCase, runCase } from '@sparse/conformance/browser';
import { isSparseAttentionError, type ProbeResult } from '@sparse/core';
import { type CpuWasmBackend, cpuWasm } from '@sparse/cpu-wasm';

/** What the page tells the test runner. */
export interface PageReport {
  crossOriginIsolated: boolean;
  sharedArrayBuffer: boolean;
  hardwareConcurrency: number;
  /** cpuWasm({ threads: 2 }) (kernel 'auto': the relaxed-SIMD build in Chromium): its probe, and lastRun() after the conformance cases ran. */
  probe: ProbeResult;
  info: ReturnType<CpuWasmBackend['lastRun']>;
  /** The same with the SIMD128 build forced (kernel: 'simd128'), over the same cases. */
  simd128: { probe: ProbeResult; info: ReturnType<CpuWasmBackend['lastRun']>; conformance: CaseOutcome[] };
  /** cpuWasm() with the default thread count (navigator.hardwareConcurrency): its probe. */
  defaults: { probe: ProbeResult };
  /**
   * Probes of copies of the package served wrongly: `missing` answers 404 for dist/worker.js, `withoutCoep` serves
   * every file without the cross-origin isolation headers (which only the page's own document has).
   */
  broken: { missing: ProbeResult; withoutCoep: ProbeResult };
  conformance: CaseOutcome[];
  /** Fault drills: null when the drill behaved as documented, else what went wrong. */
  drills: { name: string; problem: string | null }[];
  /** Milliseconds for the conformance cases. */
  ms: number;
  error?: string;
}

/** A drill that does not settle within this long is reported as hung (and the page moves on). */
const DRILL_TIMEOUT_MS = 15_000;

async function bytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

async function golden(m: CaseManifest): Promise<GoldenCase> {
  const base = `/fixtures/${m.id}/`;
  const [q, k, v, out, lse] = await Promise.all([m.files.q, m.files.k, m.files.v, m.files.out, m.files.lse].map((f) => bytes(base + f)));
  return caseFromFiles(m, { q: q!, k: k!, v: v!, out: out!, lse: lse! });
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms (hung)`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Probes a copy of the package that the server serves wrongly (see browser.test.ts). */
async function probeCopy(name: string): Promise<ProbeResult> {
  const copy = (await import(`/${name}/node_modules/@sparse/cpu-wasm/dist/browser.js`)) as typeof import('@sparse/cpu-wasm');
  const backend = copy.cpuWasm({ threads: 2 });
  try {
    return await within(backend.probe(), DRILL_TIMEOUT_MS, `probe of the ${name} copy`);
  } finally {
    void within(backend.dispose(), 1000, 'dispose').catch(() => undefined);
  }
}

/** Injects a fault on a fresh backend: the faulty call must fail with `code`, and the next call must pass the case. */
async function drill(fault: 'trap' | 'kill-worker', code: string, c: GoldenCase): Promise<string | null> {
  const backend = cpuWasm({ threads: 2 });
  try {
    const before = await runCase(backend, c);
    if (!before.pass) return `before the fault: ${before.message}`;
    backend.injectFault(fault);
    try {
      await within(backend.attention(c.request), DRILL_TIMEOUT_MS, `the call with the ${fault} fault`);
      return `the call with the ${fault} fault succeeded`;
    } catch (e) {
      if (!isSparseAttentionError(e)) return `the call with the ${fault} fault threw ${String(e)}`;
      if (e.code !== code) return `the call with the ${fault} fault threw ${e.code} (expected ${code}): ${e.message}`;
    }
    const after = await within(runCase(backend, c), DRILL_TIMEOUT_MS, `the call after the ${fault} fault`);
    if (!after.pass) return `after the fault: ${after.message}`;
    const info = backend.lastRun();
    if (info?.mode === 'workers' && info.threads !== 2) return `after the fault the pool has ${info.threads} threads`;
    return null;
  } catch (e) {
    return String((e as Error)?.message ?? e);
  } finally {
    // A hung backend never disposes (its calls are serialised); do not wait for it.
    void within(backend.dispose(), 1000, 'dispose').catch(() => undefined);
  }
}

async function run(): Promise<PageReport> {
  const manifests = (await (await fetch('/cases.json')).json()) as CaseManifest[];
  const cases = await Promise.all(manifests.map(golden));

  // The backend's declared tolerance is the float32 one of docs/design.md (Conformance), which every case's manifest carries.
  const runAll = async (backend: CpuWasmBackend) => {
    const probe = await backend.probe();
    const conformance: CaseOutcome[] = [];
    if (probe.available) for (const c of cases) conformance.push(await runCase(backend, c));
    const info = backend.lastRun();
    await backend.dispose();
    return { probe, info, conformance };
  };
  const started = performance.now();
  const { probe, info, conformance } = await runAll(cpuWasm({ threads: 2 }));
  const ms = performance.now() - started;
  const simd128 = await runAll(cpuWasm({ threads: 2, kernel: 'simd128' }));

  const byDefault = cpuWasm();
  const defaults = { probe: await byDefault.probe() };
  await byDefault.dispose();

  const broken = { missing: await probeCopy('missing'), withoutCoep: await probeCopy('without-coep') };

  const drills: PageReport['drills'] = [];
  const sample = cases.find((c) => c.manifest.id === 'gqa-2to1') ?? cases[0]!;
  drills.push({ name: 'trap', problem: await drill('trap', 'INTERNAL', sample) });
  // Without workers the drill has nothing to kill: the call simply succeeds, so only the pool runs it.
  if (info?.mode === 'workers') drills.push({ name: 'kill-worker', problem: await drill('kill-worker', 'DEVICE_LOST', sample) });

  return {
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    sharedArrayBuffer: typeof SharedArrayBuffer !== 'undefined',
    hardwareConcurrency: navigator.hardwareConcurrency,
    probe,
    info,
    simd128,
    defaults,
    broken,
    conformance,
    drills,
    ms,
  };
}

const target = globalThis as unknown as { __report?: PageReport | { error: string } };
run().then(
  (r) => {
    target.__report = r;
  },
  (e: unknown) => {
    target.__report = { error: (e as Error)?.stack ?? String(e) };
  },
);
