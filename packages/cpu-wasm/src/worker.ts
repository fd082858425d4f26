/** The browser worker script (a module Web Worker, or a classic one from the embedded copy). */

import type { FromWorker, ToWorker } from './protocol.js';
import { serveKernel } from './serve.js';

const scope = globalThis as unknown as {
  postMessage(m: unknown): void;
  addEventListener(type: 'message', fn: (e: { data: ToWorker }) => void): void;
  close(): void;
};

serveKernel({
  post: (m) => scope.postMessage(m),
  listen: (fn) => scope.addEventListener('message', (e) => fn(e.data)),
  // close() gives the owner no event in browsers: say so first, or the pool would wait for this worker forever.
  exit: (code) => {
    scope.postMessage({ type: 'exit', code } satisfies FromWorker);
    scope.close();
  },
});
