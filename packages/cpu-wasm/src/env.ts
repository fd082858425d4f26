/** Whether threads can share one WebAssembly.Memory here, and if not, why. */
export function sharedMemorySupport(): { ok: true } | { ok: false; reason: string } {
  if (typeof SharedArrayBuffer === 'undefined') {
    return {
      ok: false,
      reason: 'SharedArrayBuffer is unavailable (a browser page needs cross-origin isolation: COOP same-origin and COEP require-corp)',
    };
  }
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) {
    return { ok: false, reason: 'the page is not cross-origin isolated, so memory cannot be shared with workers' };
  }
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  } catch (e) {
    return { ok: false, reason: `shared WebAssembly.Memory is not supported (${(e as Error).message})` };
  }
  return { ok: true };
}
