import { ABORT_PTR, CTX_PTR, RC_MORE } from './abi.js';
import { instantiateKernel, type KernelExports, PHASE_NAMES, type Phase, runPhase } from './instance.js';
import type { Outcome, Runner } from './runner.js';

/** Chunks run between two checks of the clock. */
const SLICE_CHUNKS = 1;
/** Longest stretch on the calling thread before yielding to the event loop (so an AbortSignal can fire). */
const SLICE_MS = 20;

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * The single-threaded fallback: the kernel on the calling thread over a plain (unshared) memory, for pages
 * without cross-origin isolation, or when asked for (`inline: true`). Work runs in slices with a yield to the
 * event loop every ~20 ms, so the page stays responsive and an AbortSignal is honoured between slices.
 */
export class InlineRunner implements Runner {
  readonly threads = 1;
  readonly shared = false;
  private kernel: KernelExports;

  constructor(
    private readonly module: WebAssembly.Module,
    readonly memory: WebAssembly.Memory,
    readonly maxBytes: number,
  ) {
    this.kernel = instantiateKernel(module, memory);
  }

  async ready(): Promise<void> {}

  hold(_on: boolean): void {}

  async run(phase: Phase, signal?: AbortSignal): Promise<Outcome[]> {
    let start = Date.now();
    for (;;) {
      if (signal?.aborted) new Int32Array(this.memory.buffer)[ABORT_PTR >> 2] = 1;
      let rc: number;
      try {
        rc = runPhase(this.kernel, phase, CTX_PTR, 0, SLICE_CHUNKS);
      } catch (e) {
        const trap = e instanceof WebAssembly.RuntimeError;
        this.kernel = instantiateKernel(this.module, this.memory);
        return [{ ok: false, kind: trap ? 'trap' : 'error', message: `${trap ? 'wasm trap' : 'error'} in ${PHASE_NAMES[phase]}: ${(e as Error).message}` }];
      }
      if (rc !== RC_MORE) return [{ ok: true, rc }];
      if (Date.now() - start >= SLICE_MS) {
        await yieldToEventLoop();
        start = Date.now();
      }
    }
  }

  async dispose(): Promise<void> {}
}
