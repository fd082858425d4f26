import { isNode } from './env.js';
import type { FromWorker, ToWorker } from './protocol.js';

/** One worker thread, whatever the runtime. */
export interface WorkerHandle {
  post(message: ToWorker): void;
  terminate(): Promise<void>;
  /** Node: whether an idle worker keeps the process alive (no-ops in browsers). */
  ref(): void;
  unref(): void;
}

export interface WorkerEvents {
  message(message: FromWorker): void;
  /** The worker is gone (uncaught error, exit, terminate); called at most once. */
  death(reason: string): void;
}

/** Starts dist/worker.js as a worker_threads Worker (Node) or a module Web Worker (browsers). */
export async function spawnWorker(events: WorkerEvents): Promise<WorkerHandle> {
  let dead = false;
  const die = (reason: string) => {
    if (dead) return;
    dead = true;
    events.death(reason);
  };
  if (isNode()) {
    const { Worker } = await import('node:worker_threads');
    // Workers run a plain script: inherit no flags (--input-type, --expose-gc and others are invalid in workers).
    const execArgv: string[] = [];
    const w = new Worker(new URL('./worker.js', import.meta.url), { execArgv });
    w.on('message', (m: FromWorker) => events.message(m));
    w.on('error', (e: Error) => die(`worker error: ${e.message}`));
    w.on('exit', (code: number) => die(`worker exited with code ${code}`));
    return {
      post: (m) => w.postMessage(m),
      terminate: async () => {
        await w.terminate();
      },
      ref: () => w.ref(),
      unref: () => w.unref(),
    };
  }
  const url = new URL('./worker.js', import.meta.url);
  const w = new Worker(url, { type: 'module' });
  w.onmessage = (e: MessageEvent<FromWorker>) => {
    if (e.data.type === 'exit') {
      // The worker closes itself (browsers send no event for that): it is gone.
      w.terminate();
      die(`worker exited with code ${e.data.code}`);
      return;
    }
    events.message(e.data);
  };
  // A script that cannot be fetched, or is blocked, gets a plain Event (no message); an uncaught exception an
  // ErrorEvent. In a cross-origin isolated page Chromium blocks a worker script served without the page's COEP header.
  w.onerror = (e: Event) => {
    e.preventDefault();
    const message = (e as Partial<ErrorEvent>).message;
    die(
      `worker error: ${message || `cannot load the worker script ${url.href} (is it served next to the package's other files, with the page's Cross-Origin-Embedder-Policy header?)`}`,
    );
  };
  w.onmessageerror = () => die('worker message could not be deserialised');
  return {
    post: (m) => w.postMessage(m),
    terminate: async () => {
      w.terminate();
      die('terminated');
    },
    ref: () => undefined,
    unref: () => undefined,
  };
}
