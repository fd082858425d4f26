/**
 * The worker script of the pool, for Node's worker_threads and for browser (module) Web Workers alike: it
 * instantiates the kernel on the shared memory and runs phases on request. A trap inside the kernel is reported
 * and the instance rebuilt, so the worker stays usable.
 */
import { instantiateKernel, type KernelExports } from './instance.js';
import type { FromWorker, ToWorker } from './protocol.js';

interface Port {
  post(message: FromWorker): void;
  listen(fn: (message: ToWorker) => void): void;
  exit(code: number): void;
}

async function openPort(): Promise<Port> {
  const proc = (globalThis as { process?: { versions?: { node?: string }; exit(code: number): never } }).process;
  if (typeof proc?.versions?.node === 'string') {
    const { parentPort } = await import('node:worker_threads');
    if (!parentPort) throw new Error('cpu-wasm worker: not started as a worker thread');
    return {
      post: (m) => parentPort.postMessage(m),
      listen: (fn) => parentPort.on('message', fn),
      exit: (code) => proc.exit(code),
    };
  }
  const scope = globalThis as unknown as {
    postMessage(m: unknown): void;
    addEventListener(type: 'message', fn: (e: { data: ToWorker }) => void): void;
    close(): void;
  };
  return {
    post: (m) => scope.postMessage(m),
    listen: (fn) => scope.addEventListener('message', (e) => fn(e.data)),
    // close() gives the owner no event in browsers: say so first, or the pool would wait for this worker forever.
    exit: (code) => {
      scope.postMessage({ type: 'exit', code } satisfies FromWorker);
      scope.close();
    },
  };
}

const port = await openPort();
let kernel: KernelExports | null = null;
let module: WebAssembly.Module | null = null;
let memory: WebAssembly.Memory | null = null;
let wid = 0;

port.listen((msg) => {
  if (msg.type === 'init') {
    module = msg.module;
    memory = msg.memory;
    wid = msg.wid;
    try {
      kernel = instantiateKernel(module, memory);
      port.post({ type: 'ready' });
    } catch (e) {
      port.post({ type: 'error', id: -1, message: (e as Error).message, trap: false });
    }
    return;
  }
  if (msg.type === 'die') {
    port.exit(msg.code);
    return;
  }
  if (!kernel || !module || !memory) {
    port.post({ type: 'error', id: msg.id, message: 'worker used before init', trap: false });
    return;
  }
  try {
    const rc = kernel[msg.phase](msg.ctx, wid, 0x7fffffff);
    port.post({ type: 'done', id: msg.id, rc });
  } catch (e) {
    const trap = e instanceof WebAssembly.RuntimeError;
    port.post({ type: 'error', id: msg.id, message: `${trap ? 'wasm trap' : 'error'} in ${msg.phase}: ${(e as Error).message}`, trap });
    try {
      kernel = instantiateKernel(module, memory);
    } catch {
      port.exit(1);
    }
  }
});
port.post({ type: 'up' });
