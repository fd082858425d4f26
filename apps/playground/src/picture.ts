import { Attribution } from './attribution.js';
import { byId, fmt, h, labelled } from './dom.js';
import { contextOf } from './editor.js';
import { type Compiled, compile, estimateCost, MASK_BUDGET, maskAllows, tileFor, tileStatus } from './mask.js';
import { checkPattern } from './pattern.js';
import { presetById } from './presets.js';
import { type Palette, type Rgb, render } from './render.js';
import type { Pattern } from './sparse.js';
import type { AppState, ViewState } from './state.js';
import type { Store } from './store.js';
import { cellAt, clampView, pixelOf, type Viewport, viewport } from './viewport.js';

/** What the picture last drew, for the stats line and for tests (window.__playground.picture). */
export interface PictureInfo {
  frameMs: number;
  compileMs: number;
  frames: number;
  viewport: Viewport | null;
  error: string | null;
  /** Canvas pixel (device pixels) at the centre of cell (i, j). */
  pixelOf(i: number, j: number): { x: number; y: number } | null;
}

const SIZES = [16, 256, 4096, 131072];
const TILES = [0, 16, 32, 64, 128, 256];

/** `#rgb` or `#rrggbb` (the CSS minifier shortens what it can). */
export function rgb(css: string): Rgb {
  let hex = css.trim().replace(/^#/, '');
  if (/^[0-9a-f]{3}$/i.test(hex)) hex = hex.replace(/./g, (c) => c + c);
  if (!/^[0-9a-f]{6}$/i.test(hex)) return [128, 128, 128];
  return [parseInt(hex.slice(0, 2), 16), parseInt(hex.slice(2, 4), 16), parseInt(hex.slice(4, 6), 16)];
}

interface Colours extends Palette {
  tileFull: string;
  tilePartial: string;
  tileEmpty: string;
}

/** The colours of the current theme (light or dark), from the page's CSS variables. */
function palette(el: HTMLElement): Colours {
  const cs = getComputedStyle(el);
  const v = (name: string) => cs.getPropertyValue(name).trim();
  return {
    outside: rgb(v('--mask-outside')),
    empty: rgb(v('--mask-empty')),
    allowed: rgb(v('--mask-allowed')),
    tileFull: v('--tile-full'),
    tilePartial: v('--tile-partial'),
    tileEmpty: v('--tile-empty'),
  };
}

/** The mask on a canvas: zoom (wheel, buttons, + / −), pan (drag, arrows), tile grid, hover readout, numbers. */
export function mountPicture(store: Store): PictureInfo {
  const root = byId('picture');
  const sq = h('input', { type: 'number', min: 1, max: 1048576, id: 'view-sq' });
  const sk = h('input', { type: 'number', min: 1, max: 1048576, id: 'view-sk' });
  const tile = h('select', { id: 'view-tile' }, ...TILES.map((t) => h('option', { value: String(t) }, t ? `${t} × ${t}` : 'auto')));
  const grid = h('input', { type: 'checkbox', id: 'view-grid' });
  const zoomOut = h('button', { type: 'button', id: 'zoom-out', 'aria-label': 'Zoom out' }, '−');
  const zoomIn = h('button', { type: 'button', id: 'zoom-in', 'aria-label': 'Zoom in' }, '+');
  const fit = h('button', { type: 'button', id: 'zoom-fit' }, 'fit');
  const sizes = h('div', { class: 'sizes', role: 'group', 'aria-label': 'Picture size' });
  for (const n of SIZES) sizes.append(h('button', { type: 'button', 'data-size': n, id: `size-${n}` }, n >= 1024 ? `${n / 1024}k` : String(n)));
  const canvas = h('canvas', {
    id: 'mask',
    tabindex: 0,
    role: 'img',
    'aria-label': 'Attention mask: queries down, keys across. Arrow keys pan, + and − zoom, 0 fits.',
  });
  const wrap = h('div', { class: 'canvas-wrap' }, canvas);
  const readout = h('p', { id: 'readout', class: 'readout', 'aria-live': 'polite' }, 'Hover the mask (or focus it and use the arrow keys).');
  const stats = h('dl', { id: 'stats', class: 'stats' });
  const legend = h(
    'p',
    { class: 'legend' },
    h('span', { class: 'swatch allowed' }),
    'allowed ',
    h('span', { class: 'swatch tile-full' }),
    'full tile ',
    h('span', { class: 'swatch tile-partial' }),
    'partial tile ',
    h('span', { class: 'swatch tile-empty' }),
    'skipped tile',
  );
  const gridRow = labelled('tile grid', grid);
  gridRow.row.classList.add('inline', 'check');
  const toolbar = h(
    'div',
    { class: 'toolbar' },
    labelled('Sq', sq).row,
    labelled('Sk', sk).row,
    sizes,
    labelled('tile', tile).row,
    gridRow.row,
    h('div', { class: 'zoom', role: 'group', 'aria-label': 'Zoom' }, zoomOut, zoomIn, fit),
  );
  root.append(
    h('h2', {}, 'Mask'),
    toolbar,
    h('p', { class: 'axes' }, 'keys j →, queries i ↓ (bottom-right aligned: p = i + Sk − Sq)'),
    wrap,
    readout,
    legend,
    stats,
  );

  const attribution = new Attribution();
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  let compiled: Compiled | null = null;
  let compiledKey = '';
  let pattern: Pattern | null = null;
  let W = 0;
  let H = 0;
  let pending = 0;
  const info: PictureInfo = {
    frameMs: 0,
    compileMs: 0,
    frames: 0,
    viewport: null,
    error: null,
    pixelOf: (i, j) => (info.viewport ? pixelOf(info.viewport, i, j) : null),
  };

  const setView = (v: Partial<ViewState>) => {
    const s = store.state;
    store.set({ ...s, view: clampView({ ...s.view, ...v }, W || 1, H || 1) }, 'view');
  };

  const ensureCompiled = (s: AppState) => {
    const t = tileFor(s.view.tile, s.view.sq, s.view.sk);
    const key = `${store.head.json}|${s.view.sq}|${s.view.sk}|${t}|${s.run.d}`;
    if (key === compiledKey) return;
    compiledKey = key;
    const r = checkPattern(store.head.json, presetById(store.head.preset), contextOf(s));
    if ('error' in r) {
      compiled = null;
      pattern = null;
      info.error = r.error.message;
      return;
    }
    pattern = r.pattern;
    info.error = null;
    try {
      const est = estimateCost(r.pattern, s.view.sq, s.view.sk, t);
      if (est && (est.bytes > MASK_BUDGET.bytes || est.ms > MASK_BUDGET.ms)) {
        compiled = null;
        info.error = `at ${s.view.sq} × ${s.view.sk} this pattern's block mask would take about ${fmt.bytes(est.bytes)} and ${(est.ms / 1000).toFixed(1)} s to compile at ${t} × ${t} tiles (it grows like N^${est.growth.toFixed(1)}), more than the picture allows: pick a smaller size`;
        return;
      }
      compiled = compile(r.pattern, s.view.sq, s.view.sk, t);
      info.compileMs = compiled.ms;
    } catch (e) {
      compiled = null;
      info.error = (e as Error).message;
    }
  };

  const drawGrid = (vp: Viewport, c: Compiled, pal: Colours) => {
    const { mask } = c;
    const tq = mask.blockQ * vp.scale;
    const tk = mask.blockK * vp.scale;
    if (!store.state.view.grid || tq < 6 || tk < 6) return;
    const qb0 = Math.max(0, Math.floor(vp.y0 / mask.blockQ));
    const qb1 = Math.min(mask.numQBlocks - 1, Math.floor((vp.y0 + vp.H / vp.scale) / mask.blockQ));
    const kb0 = Math.max(0, Math.floor(vp.x0 / mask.blockK));
    const kb1 = Math.min(mask.numKBlocks - 1, Math.floor((vp.x0 + vp.W / vp.scale) / mask.blockK));
    ctx.lineWidth = Math.max(1, Math.round(window.devicePixelRatio || 1));
    for (const status of ['empty', 'partial', 'full'] as const) {
      ctx.strokeStyle = status === 'full' ? pal.tileFull : status === 'partial' ? pal.tilePartial : pal.tileEmpty;
      ctx.beginPath();
      for (let qb = qb0; qb <= qb1; qb++)
        for (let kb = kb0; kb <= kb1; kb++) {
          if (tileStatus(mask, qb, kb) !== status) continue;
          const x = (kb * mask.blockK - vp.x0) * vp.scale;
          const y = (qb * mask.blockQ - vp.y0) * vp.scale;
          const w = Math.min(mask.blockK, mask.seqK - kb * mask.blockK) * vp.scale;
          const hh = Math.min(mask.blockQ, mask.seqQ - qb * mask.blockQ) * vp.scale;
          ctx.rect(Math.round(x) + 0.5, Math.round(y) + 0.5, Math.max(1, Math.round(w) - 1), Math.max(1, Math.round(hh) - 1));
        }
      ctx.stroke();
    }
  };

  const draw = () => {
    pending = 0;
    const s = store.state;
    const t0 = performance.now();
    ensureCompiled(s);
    const pal = palette(canvas);
    const vp = viewport(s.view, W, H);
    info.viewport = vp;
    if (!compiled) {
      ctx.fillStyle = `rgb(${pal.outside.join(',')})`;
      ctx.fillRect(0, 0, W, H);
      ctx.fillStyle = getComputedStyle(canvas).color;
      ctx.font = `${Math.round(14 * dpr())}px system-ui, sans-serif`;
      ctx.fillText('No picture: see below.', 16 * dpr(), 28 * dpr());
      renderStats(s, null);
      readout.textContent = `No picture: ${info.error ?? 'invalid pattern'}`;
      info.frameMs = performance.now() - t0;
      info.frames++;
      return;
    }
    const img = ctx.createImageData(W, H);
    render(compiled, vp, pal, img);
    ctx.putImageData(img, 0, 0);
    drawGrid(vp, compiled, pal);
    info.frameMs = performance.now() - t0;
    info.frames++;
    renderStats(s, compiled);
  };

  const schedule = () => {
    if (!pending) pending = requestAnimationFrame(draw);
  };

  const renderStats = (s: AppState, c: Compiled | null) => {
    const row = (k: string, v: string, id: string) => [h('dt', {}, k), h('dd', { id: `stat-${id}` }, v)];
    if (!c) {
      stats.replaceChildren(...row('no picture', info.error ?? 'invalid pattern: see the editor', 'error'));
      return;
    }
    const st = c.mask.stats;
    const { d, b, h: heads } = s.run;
    const dense = 4 * s.view.sq * s.view.sk * d;
    const eff = 4 * st.nnz * d;
    const content = pattern && (pattern.kind === 'topk' || pattern.kind === 'cluster') ? ' (within’s candidates: the selection depends on q and k)' : '';
    stats.replaceChildren(
      ...row('density', `${fmt.pct(st.density)} (${fmt.count(st.nnz)} of ${fmt.count(s.view.sq * s.view.sk)} pairs)${content}`, 'density'),
      ...row(
        'listed tiles',
        `${fmt.count(st.fullBlocks + st.partialBlocks)} of ${fmt.count(c.mask.numQBlocks * c.mask.numKBlocks)} (${fmt.count(st.fullBlocks)} full, ${fmt.count(st.partialBlocks)} partial, ${fmt.count(st.storedTiles)} bit tiles stored), ${c.mask.blockQ} × ${c.mask.blockK}, block efficiency ${fmt.pct(st.blockEfficiency)}`,
        'tiles',
      ),
      ...row(
        'effective FLOPs',
        `${fmt.flops(eff * b * heads)} vs dense ${fmt.flops(dense * b * heads)}: ${(dense / Math.max(1, eff)).toFixed(1)}× fewer (4·nnz·D, D = ${d}, B·H = ${b * heads})`,
        'flops',
      ),
      ...row('block-mask bytes', fmt.bytes(st.bytes), 'bytes'),
      ...row('compile', `${fmt.ms(c.ms)} ms`, 'compile'),
      ...row('frame', `${fmt.ms(info.frameMs)} ms`, 'frame'),
    );
  };

  const letter = (n: number, size: number) => (size <= 26 ? ` (${String.fromCharCode(65 + n)})` : '');
  const describeCell = (i: number, j: number) => {
    const s = store.state;
    if (!compiled || !pattern) return;
    if (i < 0 || j < 0 || i >= s.view.sq || j >= s.view.sk) {
      readout.textContent = 'Outside the mask.';
      return;
    }
    const ok = maskAllows(compiled.mask, i, j);
    const why = ok ? attribution.explain(pattern, s.view.sq, s.view.sk, compiled.mask.blockQ, i, j) : [];
    readout.textContent = `query i = ${i}${letter(i, s.view.sq)}, key j = ${j}${letter(j, s.view.sk)}: ${ok ? 'allowed' : 'not allowed'}${why.length ? ` — by ${why.join('; ')}` : ''}`;
    readout.dataset.allowed = String(ok);
  };

  // Zoom about a canvas point (device pixels), keeping the cell under it in place.
  const zoomAt = (factor: number, px = W / 2, py = H / 2) => {
    const s = store.state;
    const vp = viewport(s.view, W, H);
    const at = cellAt(vp, px, py);
    const next = clampView({ ...s.view, zoom: s.view.zoom * factor }, W, H);
    const scale = vp.scale * (next.zoom / s.view.zoom);
    setView({ zoom: next.zoom, ck: at.j - px / scale + W / (2 * scale), cq: at.i - py / scale + H / (2 * scale) });
  };
  const pan = (dxPx: number, dyPx: number) => {
    const vp = viewport(store.state.view, W, H);
    setView({ ck: store.state.view.ck + dxPx / vp.scale, cq: store.state.view.cq + dyPx / vp.scale });
  };
  const dpr = () => window.devicePixelRatio || 1;

  canvas.addEventListener(
    'wheel',
    (e) => {
      e.preventDefault();
      const r = canvas.getBoundingClientRect();
      zoomAt(Math.exp(-e.deltaY * 0.002), (e.clientX - r.left) * dpr(), (e.clientY - r.top) * dpr());
    },
    { passive: false },
  );
  let drag: { x: number; y: number } | null = null;
  canvas.addEventListener('pointerdown', (e) => {
    drag = { x: e.clientX, y: e.clientY };
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener('pointerup', () => {
    drag = null;
  });
  canvas.addEventListener('pointermove', (e) => {
    if (drag) {
      pan((drag.x - e.clientX) * dpr(), (drag.y - e.clientY) * dpr());
      drag = { x: e.clientX, y: e.clientY };
      return;
    }
    const r = canvas.getBoundingClientRect();
    const c = cellAt(viewport(store.state.view, W, H), (e.clientX - r.left) * dpr(), (e.clientY - r.top) * dpr());
    describeCell(Math.floor(c.i), Math.floor(c.j));
  });
  canvas.addEventListener('keydown', (e) => {
    const step = Math.max(W, H) / 8;
    const keys: Record<string, () => void> = {
      ArrowLeft: () => pan(-step, 0),
      ArrowRight: () => pan(step, 0),
      ArrowUp: () => pan(0, -step),
      ArrowDown: () => pan(0, step),
      '+': () => zoomAt(1.5),
      '=': () => zoomAt(1.5),
      '-': () => zoomAt(1 / 1.5),
      '0': () => setView({ zoom: 1, cq: store.state.view.sq / 2, ck: store.state.view.sk / 2 }),
    };
    const fn = keys[e.key];
    if (!fn) return;
    e.preventDefault();
    fn();
    const v = store.state.view;
    describeCell(Math.floor(v.cq), Math.floor(v.ck));
  });
  zoomIn.addEventListener('click', () => zoomAt(2));
  zoomOut.addEventListener('click', () => zoomAt(0.5));
  fit.addEventListener('click', () => setView({ zoom: 1, cq: store.state.view.sq / 2, ck: store.state.view.sk / 2 }));
  const setSize = (q: number, k: number) => setView({ sq: q, sk: k, zoom: 1, cq: q / 2, ck: k / 2 });
  sizes.addEventListener('click', (e) => {
    const n = Number((e.target as HTMLElement).dataset.size);
    if (n) setSize(n, n);
  });
  const sizeOf = (input: HTMLInputElement, fallback: number) => {
    const n = Math.round(Number(input.value));
    return Number.isFinite(n) && n >= 1 && n <= 1048576 ? n : fallback;
  };
  sq.addEventListener('change', () => setSize(sizeOf(sq, store.state.view.sq), store.state.view.sk));
  sk.addEventListener('change', () => setSize(store.state.view.sq, sizeOf(sk, store.state.view.sk)));
  tile.addEventListener('change', () => setView({ tile: Number(tile.value) }));
  grid.addEventListener('change', () => setView({ grid: grid.checked }));

  const syncInputs = (s: AppState) => {
    if (document.activeElement !== sq) sq.value = String(s.view.sq);
    if (document.activeElement !== sk) sk.value = String(s.view.sk);
    tile.value = String(s.view.tile);
    grid.checked = s.view.grid;
  };

  const resize = () => {
    const css = Math.max(200, Math.min(640, Math.floor(wrap.clientWidth)));
    canvas.style.width = `${css}px`;
    canvas.style.height = `${css}px`;
    W = H = Math.round(css * dpr());
    canvas.width = W;
    canvas.height = H;
    schedule();
  };
  new ResizeObserver(resize).observe(wrap);
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', schedule);

  store.subscribe((s) => {
    syncInputs(s);
    schedule();
  });
  syncInputs(store.state);
  resize();
  return info;
}
