import type { Backend, HostTensor, ResidentRequest, ResidentResult } from '@sparse/core';

/** The parts of the behaviour suite, by name (for `skip`). */
export type BehaviourPart = 'inputs' | 'abort' | 'dispose' | 'concurrency' | 'ownership' | 'resident' | 'tolerance' | 'lastRun';

/** What the suite passes to `create`: only the lastRun part passes `{ partitionDilation: true }`; elsewhere nothing. */
export interface CreateOptions {
  partitionDilation?: boolean;
}

/** How the suite moves host tensors to and from the backend's device tensors (GpuTensor, tf.Tensor, CudaTensor, …). */
export interface ResidentHooks<T> {
  /** A device tensor holding a copy of `t` (same shape). `backend` is the backend the call will run on. */
  upload(t: HostTensor, backend: Backend): T | Promise<T>;
  /** A host copy of a device tensor (data and shape). */
  download(t: T, backend: Backend): Promise<HostTensor>;
  /** Frees a device tensor the suite made or got back (inputs and results). */
  release?(t: T, backend: Backend): void | Promise<void>;
}

/** A backend with device-tensor calls. */
export interface ResidentBackend<T> extends Backend {
  attentionResident(request: ResidentRequest<T>, options?: { signal?: AbortSignal }): Promise<ResidentResult<T>>;
}

/** The sizes of the long call the abort part cancels (default B = 1, H = 4, Sq = Sk = 1024, D = 64, causal). */
export interface SlowCall {
  B?: number;
  H?: number;
  Sq?: number;
  Sk?: number;
  D?: number;
}

export interface BehaviourOptions<T = unknown> {
  /** Label of the suite, e.g. 'cpu-wasm 2 threads'. */
  name: string;
  /**
   * Creates a backend. The suite creates several (most parts need a fresh one) and disposes each. It passes
   * `{ partitionDilation: true }` for the pieces check of lastRun() only, and nothing otherwise: forward it to the
   * factory (a backend whose default partitions may ignore it).
   */
  create: (options?: CreateOptions) => Backend | Promise<Backend>;
  /** Device tensors: when given, the backend must have `attentionResident`, checked against attention(). */
  resident?: ResidentHooks<T>;
  /** The long call of the abort part (default Sq = Sk = 1024, H = 4, D = 64, causal). */
  slowCall?: SlowCall;
  /** Milliseconds between starting the long call and aborting it (default 5). */
  abortAfterMs?: number;
  /** Milliseconds an aborted call may take to settle before the suite calls it hung (default 60 000). */
  settleMs?: number;
  /** Parts not to run, each with the reason (printed in the skipped test's title). */
  skip?: Partial<Record<BehaviourPart, string>>;
  /**
   * When the backend's probe says unavailable: true fails the suite (CI), false skips every test with the probe's
   * reason. Defaults to true when the environment variable CI is 'true'.
   */
  requireAvailable?: boolean;
}

/** What every check gets: the options, the suite's started backend and fresh backends on demand. */
export interface BehaviourContext<T = unknown> {
  options: BehaviourOptions<T>;
  /** The suite's backend, probed and available; checks leave it working. */
  started: Backend;
  /** Runs `fn` on a new backend (not probed, no call made) and disposes it afterwards. */
  fresh<R>(fn: (backend: Backend) => Promise<R>, createOptions?: CreateOptions): Promise<R>;
}
