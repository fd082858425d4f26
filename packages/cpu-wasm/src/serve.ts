/**
 * The worker side of the pool, shared by the Node worker (worker-node.ts) and the browser one (worker.ts): it
 * instantiates the kernel on the shared memory and runs phases on request. A trap inside the kernel is reported
 * and the instance rebuilt, so the worker stays usable.
 */
import { instantiateKernel, type KernelExports, PHASE_NAMES, runPhase } from './instance.js';
import type { FromWorker, ToWorker } from './protocol.js';

export interface Port {
  post(message: FromWorker): void;
  listen(fn: (message: ToWorker) => void): void;
  exit(code: number): void;
}

/** Answers the pool's messages on `port`; synchronous, so a worker needs no top-level await. */
export function serveKernel(port: Port): void {
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
      const rc = runPhase(kernel, msg.phase, msg.ctx, wid, 0x7fffffff);
      port.post({ type: 'done', id: msg.id, rc });
    } catch (e) {
      const trap = e instanceof WebAssembly.RuntimeError;
      port.post({ type: 'error', id: msg.id, message: `${trap ? 'wasm trap' : 'error'} in ${PHASE_NAMES[msg.phase]}: ${(e as Error).message}`, trap });
      try {
        kernel = instantiateKernel(module, memory);
      } catch {
        port.exit(1);
      }
    }
  });
  port.post({ type: 'up' });
}
