/** The whole setup of the page: what the URL hash carries and what every panel reads. */

export const BACKEND_IDS = ['cpu-wasm', 'webgpu', 'tfjs-webgpu', 'tfjs-wasm', 'tfjs-cpu', 'reference'] as const;
export type BackendId = (typeof BACKEND_IDS)[number];

/** One head's pattern: the preset it came from, that preset's form values, and the JSON text (the pattern itself). */
export interface HeadState {
  preset: string;
  params: Record<string, string>;
  json: string;
}

export interface ViewState {
  /** Sizes the picture shows (its own, so a 131072-token picture does not mean a 131072-token run). */
  sq: number;
  sk: number;
  /** Tile edge of the compiled mask the picture draws (0 = chosen from the size). */
  tile: number;
  /** Magnification over "whole mask fits", and the (query, key) at the centre of the canvas. */
  zoom: number;
  cq: number;
  ck: number;
  grid: boolean;
}

export interface RunState {
  b: number;
  h: number;
  hkv: number;
  sq: number;
  sk: number;
  d: number;
  layout: 'bhsd' | 'bshd';
  dense: boolean;
  backends: BackendId[];
}

export interface AppState {
  heads: HeadState[];
  head: number;
  view: ViewState;
  run: RunState;
}

export const DEFAULT_VIEW: ViewState = { sq: 256, sk: 256, tile: 0, zoom: 1, cq: 128, ck: 128, grid: true };
export const DEFAULT_RUN: RunState = {
  b: 1,
  h: 4,
  hkv: 2,
  sq: 1024,
  sk: 1024,
  d: 64,
  layout: 'bhsd',
  dense: true,
  backends: [...BACKEND_IDS],
};

const int = (x: unknown, fallback: number, lo: number, hi: number) =>
  typeof x === 'number' && Number.isFinite(x) ? Math.min(hi, Math.max(lo, Math.round(x))) : fallback;
const num = (x: unknown, fallback: number) => (typeof x === 'number' && Number.isFinite(x) ? x : fallback);

/** Reads a state from untrusted JSON (a hand-edited URL): whatever does not fit falls back to the defaults. */
export function sanitize(raw: unknown, fallback: AppState): AppState {
  if (typeof raw !== 'object' || raw === null) return fallback;
  const r = raw as Partial<Record<keyof AppState, unknown>>;
  const heads = Array.isArray(r.heads)
    ? r.heads
        .filter((x): x is HeadState => typeof x === 'object' && x !== null && typeof (x as HeadState).json === 'string')
        .map((x) => ({
          preset: typeof x.preset === 'string' ? x.preset : 'custom',
          params: typeof x.params === 'object' && x.params !== null ? Object.fromEntries(Object.entries(x.params).map(([k, v]) => [k, String(v)])) : {},
          json: x.json,
        }))
    : [];
  const v = (typeof r.view === 'object' && r.view !== null ? r.view : {}) as Partial<ViewState>;
  const u = (typeof r.run === 'object' && r.run !== null ? r.run : {}) as Partial<RunState>;
  const d = fallback;
  const sq = int(v.sq, d.view.sq, 1, 1 << 20);
  const sk = int(v.sk, d.view.sk, 1, 1 << 20);
  return {
    heads: heads.length ? heads : d.heads,
    head: heads.length ? int(r.head, 0, 0, heads.length - 1) : d.head,
    view: {
      sq,
      sk,
      tile: int(v.tile, 0, 0, 4096),
      zoom: num(v.zoom, 1),
      cq: num(v.cq, sq / 2),
      ck: num(v.ck, sk / 2),
      grid: typeof v.grid === 'boolean' ? v.grid : d.view.grid,
    },
    run: {
      b: int(u.b, d.run.b, 1, 64),
      h: int(u.h, d.run.h, 1, 256),
      hkv: int(u.hkv, d.run.hkv, 1, 256),
      sq: int(u.sq, d.run.sq, 1, 1 << 20),
      sk: int(u.sk, d.run.sk, 1, 1 << 20),
      d: int(u.d, d.run.d, 1, 1024),
      layout: u.layout === 'bshd' ? 'bshd' : 'bhsd',
      dense: typeof u.dense === 'boolean' ? u.dense : d.run.dense,
      backends: Array.isArray(u.backends) ? BACKEND_IDS.filter((id) => (u.backends as unknown[]).includes(id)) : d.run.backends,
    },
  };
}

/** `#s=<url-encoded JSON>`: readable, and a link survives being pasted anywhere. */
export function encodeHash(state: AppState): string {
  return `#s=${encodeURIComponent(JSON.stringify(state))}`;
}

export function decodeHash(hash: string, fallback: AppState): AppState | null {
  const m = /^#s=(.*)$/s.exec(hash);
  if (!m) return null;
  try {
    return sanitize(JSON.parse(decodeURIComponent(m[1]!)), fallback);
  } catch {
    return null;
  }
}
