/** Runtime detection: Node or a browser, shared memory, the default thread count. No side effects at import. */

export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

/** Whether threads can share one WebAssembly.Memory here, and if not, why. */
export function sharedMemorySupport(): { ok: true } | { ok: false; reason: string } {
  if (typeof SharedArrayBuffer === 'undefined') {
    return {
      ok: false,
      reason: 'SharedArrayBuffer is unavailable (a browser page needs cross-origin isolation: COOP same-origin and COEP require-corp)',
    };
  }
  if (!isNode() && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) {
    return { ok: false, reason: 'the page is not cross-origin isolated, so memory cannot be shared with workers' };
  }
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  } catch (e) {
    return { ok: false, reason: `shared WebAssembly.Memory is not supported (${(e as Error).message})` };
  }
  return { ok: true };
}

/** os.availableParallelism() in Node, navigator.hardwareConcurrency in browsers, 1 when unknown. */
export async function defaultThreadCount(): Promise<number> {
  if (isNode()) {
    const os = await import('node:os');
    return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
  }
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return typeof n === 'number' && n >= 1 ? Math.floor(n) : 1;
}
