import type { KernelBuild } from '../instance.js';
import type { FromWorker } from '../protocol.js';
import { base64Bytes, describeResponse, diagnoseScript, isWasm } from './fetched.js';
import type { Platform, WorkerEvents, WorkerHandle } from './types.js';

/*
 * The literal `new URL('…', import.meta.url)` and `new Worker(new URL('…', import.meta.url), { type: 'module' })`
 * forms are what bundlers recognise: they emit the .wasm files as assets and bundle the worker with its imports.
 * Where a bundler does neither (or a dev server moves the module), the files are not next to the bundle: the
 * kernel (of either build, SIMD128 or relaxed) then comes from a base64 copy and the worker from a bundled copy
 * started from a blob: URL, both loaded only when needed.
 */

function kernelUrl(shared: boolean, build: KernelBuild): URL | null {
  try {
    if (build === 'relaxed') return shared ? new URL('../relaxed/kernel.wasm', import.meta.url) : new URL('../relaxed/kernel-st.wasm', import.meta.url);
    return shared ? new URL('../kernel.wasm', import.meta.url) : new URL('../kernel-st.wasm', import.meta.url);
  } catch {
    // A classic-script bundle has no import.meta.url.
    return null;
  }
}

async function kernelBytes(shared: boolean, build: KernelBuild): Promise<{ bytes: ArrayBuffer | Uint8Array; source: string }> {
  const url = kernelUrl(shared, build);
  let problem = 'import.meta.url is unavailable';
  if (url) {
    try {
      const res = await fetch(url);
      const body = await res.arrayBuffer();
      if (res.ok && isWasm(body)) return { bytes: body, source: url.href };
      problem = describeResponse(url.href, res, body);
    } catch (e) {
      problem = `cannot fetch ${url.href}: ${(e as Error).message}`;
    }
  }
  const embedded = build === 'relaxed' ? await import('../kernel-relaxed-embedded.js') : await import('../kernel-embedded.js');
  return { bytes: base64Bytes(shared ? embedded.KERNEL_SHARED : embedded.KERNEL_SINGLE), source: `the embedded copy (${problem})` };
}

function fileWorker(): Worker {
  return new Worker(new URL('../worker.js', import.meta.url), { type: 'module' });
}

/** The worker's URL as this module sees it, for messages only (not in the form bundlers rewrite). */
function scriptUrl(): string {
  const here = import.meta.url;
  try {
    return new URL('../worker.js', here).href;
  } catch {
    return 'worker.js';
  }
}

async function embeddedWorker(): Promise<Worker> {
  const { WORKER_SOURCE } = await import('../worker-embedded.js');
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  try {
    return new Worker(url);
  } finally {
    // The worker has its own reference to the script once constructed.
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}

/** Starts dist/worker.js as a module Web Worker; if it cannot be loaded, the embedded copy. */
async function spawnWorker(events: WorkerEvents): Promise<WorkerHandle> {
  let dead = false;
  let up = false;
  let current: Worker | null = null;
  const die = (reason: string) => {
    if (dead) return;
    dead = true;
    current?.terminate();
    events.death(reason);
  };
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;

  // A script that cannot be fetched, or is blocked, gets a plain Event (no message); an uncaught exception an ErrorEvent.
  const attach = (w: Worker, onLoadFailure: () => void) => {
    current = w;
    w.onmessage = (e: MessageEvent<FromWorker>) => {
      up = true;
      if (e.data.type === 'exit') {
        // The worker closes itself (browsers send no event for that): it is gone.
        w.terminate();
        die(`worker exited with code ${e.data.code}`);
        return;
      }
      events.message(e.data);
    };
    w.onerror = (e: Event) => {
      e.preventDefault();
      const message = (e as Partial<ErrorEvent>).message;
      if (message) die(`worker error: ${message}`);
      else if (!up) onLoadFailure();
      else die('worker error (no message)');
    };
    w.onmessageerror = () => die('worker message could not be deserialised');
  };

  const fail = (embeddedProblem: string) =>
    void diagnoseScript(scriptUrl(), isolated).then((why) =>
      die(`worker error: cannot load the worker script ${scriptUrl()} (${why}), nor its embedded copy (${embeddedProblem})`),
    );
  const fallBack = () => {
    current?.terminate();
    if (dead) return;
    embeddedWorker().then(
      (w) => (dead ? w.terminate() : attach(w, () => fail('it did not load either'))),
      (e: unknown) => fail((e as Error).message),
    );
  };
  try {
    attach(fileWorker(), fallBack);
  } catch {
    fallBack();
  }
  return {
    post: (m) => current?.postMessage(m),
    terminate: async () => {
      current?.terminate();
      die('terminated');
    },
    ref: () => undefined,
    unref: () => undefined,
  };
}

export const browserPlatform: Platform = {
  kernelBytes,
  spawnWorker,
  defaultThreadCount: async () => {
    const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
    return typeof n === 'number' && n >= 1 ? Math.floor(n) : 1;
  },
};
