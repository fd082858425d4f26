/** The Node worker script (worker_threads). */
import { parentPort } from 'node:worker_threads';
import { serveKernel } from './serve.js';

if (!parentPort) throw new Error('cpu-wasm worker: not started as a worker thread');
const port = parentPort;
serveKernel({
  post: (m) => port.postMessage(m),
  listen: (fn) => port.on('message', fn),
  exit: (code) => process.exit(code),
});
