/** Small, dependency-free SVG charts: a line chart (optionally log-log) and a grouped bar chart. */

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const n = (x: number) => (Math.round(x * 10) / 10).toString();

export interface Point {
  x: number;
  y: number;
  /** Drawn hollow (e.g. a value extrapolated from a slice of rows). */
  hollow?: boolean;
}

export interface Series {
  name: string;
  points: Point[];
  dashed?: boolean;
  /** Defaults to the palette colour of the series' index. */
  color?: string;
}

export interface LineChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  xLog?: boolean;
  yLog?: boolean;
  series: Series[];
  /** Ticks on x (default: the distinct x of the points); labels by xFormat. */
  xTicks?: number[];
  xFormat?: (x: number) => string;
  /** A horizontal reference line (e.g. η = 1). */
  refY?: { y: number; label: string };
  footnote?: string;
  width?: number;
  height?: number;
}

interface Axis {
  min: number;
  max: number;
  log: boolean;
}

function axis(values: number[], log: boolean, padFrac = 0.05, includeZero = false): Axis {
  const finite = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  if (!finite.length) return { min: log ? 1 : 0, max: log ? 10 : 1, log };
  let min = Math.min(...finite);
  let max = Math.max(...finite);
  if (log) {
    min = 10 ** Math.floor(Math.log10(min));
    max = 10 ** Math.ceil(Math.log10(max));
    if (min === max) max = min * 10;
    return { min, max, log };
  }
  if (includeZero) min = Math.min(0, min);
  if (min === max) max = min + 1;
  const span = max - min;
  return { min: includeZero && min === 0 ? 0 : min - span * padFrac, max: max + span * padFrac, log };
}

function project(a: Axis, v: number, lo: number, hi: number): number {
  const t = a.log ? (Math.log10(v) - Math.log10(a.min)) / (Math.log10(a.max) - Math.log10(a.min)) : (v - a.min) / (a.max - a.min);
  return lo + t * (hi - lo);
}

function niceTicks(a: Axis): number[] {
  if (a.log) {
    const out: number[] = [];
    for (let e = Math.log10(a.min); e <= Math.log10(a.max) + 1e-9; e++) out.push(10 ** e);
    return out;
  }
  const span = a.max - a.min;
  const step0 = 10 ** Math.floor(Math.log10(span / 5));
  const step = [1, 2, 5, 10].map((m) => m * step0).find((s) => span / s <= 6) ?? step0 * 10;
  const out: number[] = [];
  for (let v = Math.ceil(a.min / step) * step; v <= a.max + 1e-12; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

export function fmtTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6) return `${v / 1e6}M`;
  if (a >= 1e3) return `${v / 1e3}k`;
  if (a >= 1) return String(Number(v.toPrecision(3)));
  return String(Number(v.toPrecision(2)));
}

function frame(width: number, height: number, title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${n(width / 2)}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

const colorAt = (i: number, color?: string) => color ?? PALETTE[i % PALETTE.length]!;

function legend(names: string[], x: number, y: number, dashed: boolean[] = [], colors: (string | undefined)[] = []): string[] {
  return names.flatMap((name, i) => {
    const yy = y + i * 16;
    const c = colorAt(i, colors[i]);
    return [
      `<line x1="${x}" y1="${yy}" x2="${x + 18}" y2="${yy}" stroke="${c}" stroke-width="2"${dashed[i] ? ' stroke-dasharray="5,3"' : ''}/>`,
      `<text x="${x + 24}" y="${yy + 4}">${escapeXml(name)}</text>`,
    ];
  });
}

export function lineChart(spec: LineChartSpec): string {
  const width = spec.width ?? 760;
  const height = spec.height ?? 420;
  const legendW = 190;
  const left = 70;
  const right = width - legendW - 10;
  const top = 36;
  const bottom = height - (spec.footnote ? 62 : 48);
  const pts = spec.series.flatMap((s) => s.points);
  const xa = axis(
    pts.map((p) => p.x),
    Boolean(spec.xLog),
  );
  const ya = axis([...pts.map((p) => p.y), ...(spec.refY ? [spec.refY.y] : [])], Boolean(spec.yLog), 0.08, !spec.yLog);
  if (spec.xLog && pts.length) {
    // Tight log-x range around the data (N values), not whole decades.
    const xs = pts.map((p) => p.x).filter((x) => x > 0);
    xa.min = Math.min(...xs) / 1.3;
    xa.max = Math.max(...xs) * 1.3;
  }
  const X = (v: number) => project(xa, v, left, right);
  const Y = (v: number) => project(ya, v, bottom, top);
  const body: string[] = [];
  const xTicks = spec.xTicks ?? [...new Set(pts.map((p) => p.x))].sort((a, b) => a - b);
  const xFmt = spec.xFormat ?? fmtTick;
  body.push(`<g stroke="#e5e5e5" stroke-width="1">`);
  for (const t of niceTicks(ya)) body.push(`<line x1="${left}" y1="${n(Y(t))}" x2="${right}" y2="${n(Y(t))}"/>`);
  for (const t of xTicks) body.push(`<line x1="${n(X(t))}" y1="${top}" x2="${n(X(t))}" y2="${bottom}"/>`);
  body.push('</g>');
  body.push(`<rect x="${left}" y="${top}" width="${n(right - left)}" height="${n(bottom - top)}" fill="none" stroke="#333333"/>`);
  for (const t of niceTicks(ya)) body.push(`<text x="${left - 6}" y="${n(Y(t) + 4)}" text-anchor="end">${escapeXml(fmtTick(t))}</text>`);
  for (const t of xTicks) body.push(`<text x="${n(X(t))}" y="${bottom + 16}" text-anchor="middle">${escapeXml(xFmt(t))}</text>`);
  body.push(`<text x="${n((left + right) / 2)}" y="${bottom + 34}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`);
  body.push(
    `<text x="16" y="${n((top + bottom) / 2)}" text-anchor="middle" transform="rotate(-90 16 ${n((top + bottom) / 2)})">${escapeXml(spec.yLabel)}</text>`,
  );
  if (spec.refY) {
    const y = n(Y(spec.refY.y));
    body.push(`<line x1="${left}" y1="${y}" x2="${right}" y2="${y}" stroke="#555555" stroke-dasharray="2,3"/>`);
    body.push(`<text x="${right - 4}" y="${Number(y) - 4}" text-anchor="end" fill="#555555">${escapeXml(spec.refY.label)}</text>`);
  }
  spec.series.forEach((s, i) => {
    const c = colorAt(i, s.color);
    const p = [...s.points].sort((a, b) => a.x - b.x);
    if (p.length > 1)
      body.push(
        `<polyline fill="none" stroke="${c}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,3"' : ''} points="${p.map((q) => `${n(X(q.x))},${n(Y(q.y))}`).join(' ')}"/>`,
      );
    for (const q of p) body.push(`<circle cx="${n(X(q.x))}" cy="${n(Y(q.y))}" r="3.5" fill="${q.hollow ? '#ffffff' : c}" stroke="${c}" stroke-width="1.5"/>`);
  });
  body.push(
    ...legend(
      spec.series.map((s) => s.name),
      right + 14,
      top + 8,
      spec.series.map((s) => Boolean(s.dashed)),
      spec.series.map((s) => s.color),
    ),
  );
  if (spec.footnote) body.push(`<text x="${left}" y="${height - 10}" font-size="11" fill="#555555">${escapeXml(spec.footnote)}</text>`);
  return frame(width, height, spec.title, body);
}

export interface BarChartSpec {
  title: string;
  yLabel: string;
  groups: string[];
  series: { name: string; values: (number | null)[]; color?: string }[];
  refY?: { y: number; label: string };
  footnote?: string;
  width?: number;
  height?: number;
}

export function barChart(spec: BarChartSpec): string {
  const width = spec.width ?? 760;
  const height = spec.height ?? 400;
  const legendW = 190;
  const left = 60;
  const right = width - legendW - 10;
  const top = 36;
  const bottom = height - (spec.footnote ? 62 : 48);
  const values = spec.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const ya = axis([...values, ...(spec.refY ? [spec.refY.y] : []), 0], false, 0.08, true);
  const Y = (v: number) => project(ya, v, bottom, top);
  const body: string[] = [];
  body.push('<g stroke="#e5e5e5" stroke-width="1">');
  for (const t of niceTicks(ya)) body.push(`<line x1="${left}" y1="${n(Y(t))}" x2="${right}" y2="${n(Y(t))}"/>`);
  body.push('</g>');
  for (const t of niceTicks(ya)) body.push(`<text x="${left - 6}" y="${n(Y(t) + 4)}" text-anchor="end">${escapeXml(fmtTick(t))}</text>`);
  const groupW = (right - left) / Math.max(1, spec.groups.length);
  const barW = (groupW * 0.8) / Math.max(1, spec.series.length);
  spec.groups.forEach((g, gi) => {
    const gx = left + gi * groupW;
    body.push(`<text x="${n(gx + groupW / 2)}" y="${bottom + 16}" text-anchor="middle">${escapeXml(g)}</text>`);
    spec.series.forEach((s, si) => {
      const v = s.values[gi];
      if (v === null || v === undefined || !Number.isFinite(v)) return;
      const x = gx + groupW * 0.1 + si * barW;
      const y0 = Y(Math.max(0, ya.min));
      const y1 = Y(v);
      body.push(
        `<rect x="${n(x)}" y="${n(Math.min(y0, y1))}" width="${n(Math.max(1, barW - 2))}" height="${n(Math.abs(y0 - y1))}" fill="${colorAt(si, s.color)}"><title>${escapeXml(`${s.name} · ${g}: ${v.toFixed(3)}`)}</title></rect>`,
      );
    });
  });
  body.push(`<rect x="${left}" y="${top}" width="${n(right - left)}" height="${n(bottom - top)}" fill="none" stroke="#333333"/>`);
  body.push(
    `<text x="16" y="${n((top + bottom) / 2)}" text-anchor="middle" transform="rotate(-90 16 ${n((top + bottom) / 2)})">${escapeXml(spec.yLabel)}</text>`,
  );
  if (spec.refY) {
    const y = n(Y(spec.refY.y));
    body.push(`<line x1="${left}" y1="${y}" x2="${right}" y2="${y}" stroke="#555555" stroke-dasharray="2,3"/>`);
    body.push(`<text x="${right - 4}" y="${Number(y) - 4}" text-anchor="end" fill="#555555">${escapeXml(spec.refY.label)}</text>`);
  }
  body.push(
    ...legend(
      spec.series.map((s) => s.name),
      right + 14,
      top + 8,
      [],
      spec.series.map((s) => s.color),
    ),
  );
  if (spec.footnote) body.push(`<text x="${left}" y="${height - 10}" font-size="11" fill="#555555">${escapeXml(spec.footnote)}</text>`);
  return frame(width, height, spec.title, body);
}
