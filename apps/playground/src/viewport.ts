import type { ViewState } from './state.js';

/** Canvas pixels ↔ (query, key): `scale` device pixels per token, (y0, x0) the query and key at the top-left corner. */
export interface Viewport {
  W: number;
  H: number;
  sq: number;
  sk: number;
  scale: number;
  x0: number;
  y0: number;
}

export const MAX_SCALE = 64;

export function fitScale(W: number, H: number, sq: number, sk: number): number {
  return Math.min(W / sk, H / sq);
}

export function viewport(view: ViewState, W: number, H: number): Viewport {
  const scale = fitScale(W, H, view.sq, view.sk) * view.zoom;
  return { W, H, sq: view.sq, sk: view.sk, scale, x0: view.ck - W / (2 * scale), y0: view.cq - H / (2 * scale) };
}

/** Keeps zoom in [1, the zoom where a token is MAX_SCALE pixels] and the centre inside the mask. */
export function clampView(view: ViewState, W: number, H: number): ViewState {
  const fit = fitScale(W, H, view.sq, view.sk);
  const maxZoom = Math.max(1, MAX_SCALE / fit);
  const zoom = Math.min(maxZoom, Math.max(1, view.zoom));
  return { ...view, zoom, cq: Math.min(view.sq, Math.max(0, view.cq)), ck: Math.min(view.sk, Math.max(0, view.ck)) };
}

/** The (query, key) under a canvas pixel (device pixels), fractional. */
export function cellAt(vp: Viewport, px: number, py: number): { i: number; j: number } {
  return { i: vp.y0 + py / vp.scale, j: vp.x0 + px / vp.scale };
}

/** The canvas pixel (device pixels) at the centre of cell (i, j). */
export function pixelOf(vp: Viewport, i: number, j: number): { x: number; y: number } {
  return { x: (j + 0.5 - vp.x0) * vp.scale, y: (i + 0.5 - vp.y0) * vp.scale };
}
