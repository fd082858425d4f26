import type { BackendId } from './state.js';

export interface Point {
  id: BackendId;
  n: number;
  ms: number;
}

export const SERIES_COLOURS: Record<BackendId, string> = {
  'cpu-wasm': '#2563eb',
  webgpu: '#db2777',
  'tfjs-webgpu': '#ea580c',
  'tfjs-wasm': '#16a34a',
  'tfjs-cpu': '#7c3aed',
  reference: '#64748b',
};

const NS = 'http://www.w3.org/2000/svg';
function el(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Time vs N (Sk) of the last runs, log-log, one line per backend, as inline SVG. */
export function drawChart(svg: SVGSVGElement, points: readonly Point[]): void {
  const W = 420;
  const H = 200;
  const m = { l: 48, r: 110, t: 10, b: 32 };
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.replaceChildren();
  if (!points.length) {
    svg.append(el('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'chart-empty' }, 'Run to see time vs N here.'));
    return;
  }
  const lx = points.map((p) => Math.log2(p.n));
  const ly = points.map((p) => Math.log10(Math.max(p.ms, 1e-3)));
  let x0 = Math.floor(Math.min(...lx));
  let x1 = Math.ceil(Math.max(...lx));
  let y0 = Math.floor(Math.min(...ly));
  let y1 = Math.ceil(Math.max(...ly));
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
  const X = (v: number) => m.l + ((v - x0) / (x1 - x0)) * (W - m.l - m.r);
  const Y = (v: number) => H - m.b - ((v - y0) / (y1 - y0)) * (H - m.t - m.b);
  svg.append(
    el('line', { x1: m.l, y1: H - m.b, x2: W - m.r, y2: H - m.b, class: 'axis' }),
    el('line', { x1: m.l, y1: m.t, x2: m.l, y2: H - m.b, class: 'axis' }),
  );
  for (let v = x0; v <= x1; v++) {
    svg.append(el('text', { x: X(v), y: H - m.b + 14, 'text-anchor': 'middle', class: 'tick' }, 2 ** v >= 1024 ? `${2 ** v / 1024}k` : String(2 ** v)));
  }
  for (let v = y0; v <= y1; v++) svg.append(el('text', { x: m.l - 6, y: Y(v) + 4, 'text-anchor': 'end', class: 'tick' }, `${10 ** v} ms`));
  svg.append(el('text', { x: (m.l + W - m.r) / 2, y: H - 4, 'text-anchor': 'middle', class: 'tick' }, 'N (keys)'));
  const ids = [...new Set(points.map((p) => p.id))];
  ids.forEach((id, n) => {
    const pts = points.filter((p) => p.id === id).sort((a, b) => a.n - b.n);
    const colour = SERIES_COLOURS[id];
    svg.append(
      el('polyline', {
        points: pts.map((p) => `${X(Math.log2(p.n))},${Y(Math.log10(Math.max(p.ms, 1e-3)))}`).join(' '),
        fill: 'none',
        stroke: colour,
        'stroke-width': 1.5,
      }),
    );
    for (const p of pts) {
      const c = el('circle', { cx: X(Math.log2(p.n)), cy: Y(Math.log10(Math.max(p.ms, 1e-3))), r: 3, fill: colour });
      c.append(el('title', {}, `${id}: N = ${p.n}, ${p.ms.toFixed(2)} ms`));
      svg.append(c);
    }
    svg.append(
      el('rect', { x: W - m.r + 10, y: m.t + n * 16, width: 10, height: 10, fill: colour }),
      el('text', { x: W - m.r + 24, y: m.t + n * 16 + 9, class: 'tick' }, id),
    );
  });
}
