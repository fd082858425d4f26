import './style.css';
import { disposeAll } from './backends.js';
import { ensureIsolation } from './coi.js';
import { mountConverters } from './converters.js';
import { byId, h } from './dom.js';
import { mountEditor } from './editor.js';
import { headFromPreset } from './pattern.js';
import { mountPicture } from './picture.js';
import { mountRunPanel } from './run-panel.js';
import { type AppState, DEFAULT_RUN, DEFAULT_VIEW, decodeHash, encodeHash } from './state.js';
import { Store } from './store.js';

function defaults(): AppState {
  return { heads: [headFromPreset('local', { sq: DEFAULT_VIEW.sq, sk: DEFAULT_VIEW.sk, d: DEFAULT_RUN.d })], head: 0, view: DEFAULT_VIEW, run: DEFAULT_RUN };
}

function banner(why: string): void {
  byId('banner').replaceChildren(
    h('strong', {}, 'Not cross-origin isolated: '),
    `${why}. cpu-wasm runs on the page's own thread (no workers) and tf.js without threads. Serve the page with `,
    h('code', {}, 'Cross-Origin-Opener-Policy: same-origin'),
    ' and ',
    h('code', {}, 'Cross-Origin-Embedder-Policy: require-corp'),
    ' for threads.',
  );
  byId('banner').hidden = false;
}

async function main(): Promise<void> {
  const isolation = await ensureIsolation();
  if ('reloading' in isolation) return;
  if (!isolation.isolated) banner(isolation.why);

  const fallback = defaults();
  const store = new Store(decodeHash(location.hash, fallback) ?? fallback);
  mountEditor(store);
  const picture = mountPicture(store);
  mountConverters(store);
  const run = mountRunPanel(store);

  // The whole setup lives in the URL hash: replaced (not pushed) as it changes, read back when it is edited.
  let written = '';
  let timer = 0;
  store.subscribe((s) => {
    clearTimeout(timer);
    timer = window.setTimeout(() => {
      written = encodeHash(s);
      history.replaceState(history.state, '', written);
    }, 150);
  });
  window.addEventListener('hashchange', () => {
    if (location.hash === written) return;
    const s = decodeHash(location.hash, fallback);
    if (s) store.set(s, 'load');
  });
  byId('share').addEventListener('click', async () => {
    clearTimeout(timer);
    written = encodeHash(store.state);
    history.replaceState(history.state, '', written);
    try {
      await navigator.clipboard.writeText(location.href);
      byId('share-status').textContent = 'link copied';
    } catch {
      byId('share-status').textContent = 'the address bar has the link';
    }
  });
  window.addEventListener('pagehide', disposeAll);

  Object.assign(window, { __playground: { store, picture, run, isolated: globalThis.crossOriginIsolated, ready: true } });
}

main().catch((e) => {
  const el = document.getElementById('banner');
  if (el) {
    el.hidden = false;
    el.textContent = `The playground failed to start: ${(e as Error)?.message ?? e}`;
  }
  throw e;
});
