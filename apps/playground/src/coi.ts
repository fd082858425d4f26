/**
 * Cross-origin isolation (threads for cpu-wasm). A host that sends COOP/COEP needs nothing; elsewhere the page
 * registers public/coi-sw.js, which adds the headers, and reloads once under it. `?coi=off` turns this off (and
 * unregisters the worker), to see the page as a host without headers serves it.
 */
/** Marks the history entry the page reloaded under the service worker (a reload keeps history.state). */
const RELOADED = 'sparsePlaygroundCoiReloaded';
const reloaded = () => (history.state as Record<string, unknown> | null)?.[RELOADED] === true;

export type Isolation = { isolated: true } | { isolated: false; why: string } | { reloading: true };

export async function ensureIsolation(): Promise<Isolation> {
  if (globalThis.crossOriginIsolated) {
    return { isolated: true };
  }
  if (!('serviceWorker' in navigator) || !globalThis.isSecureContext) {
    return { isolated: false, why: 'this page is not served over HTTPS (or localhost), so its isolating service worker cannot run' };
  }
  if (new URLSearchParams(location.search).get('coi') === 'off') {
    const regs = await navigator.serviceWorker.getRegistrations();
    await Promise.all(regs.map((r) => r.unregister()));
    return { isolated: false, why: 'the isolating service worker is turned off (?coi=off)' };
  }
  if (reloaded()) {
    return { isolated: false, why: 'the isolating service worker did not take effect (the browser may block service workers here)' };
  }
  try {
    await navigator.serviceWorker.register(new URL('coi-sw.js', document.baseURI), { scope: './' });
    if (!navigator.serviceWorker.controller) {
      await new Promise<void>((ok) => {
        navigator.serviceWorker.addEventListener('controllerchange', () => ok(), { once: true });
        setTimeout(ok, 4000);
      });
    }
    history.replaceState({ ...(history.state as object | null), [RELOADED]: true }, '');
    location.reload();
    return { reloading: true };
  } catch (e) {
    return { isolated: false, why: `the isolating service worker could not be registered (${(e as Error).message})` };
  }
}
