/** Number formatting shared by the terminal table and the Markdown report. */

export function fmtMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

export function fmtBytes(b: number | undefined): string {
  if (b === undefined || !Number.isFinite(b)) return '—';
  const sign = b < 0 ? '-' : '';
  const a = Math.abs(b);
  if (a >= 2 ** 30) return `${sign}${(a / 2 ** 30).toFixed(2)} GiB`;
  if (a >= 2 ** 20) return `${sign}${(a / 2 ** 20).toFixed(a >= 100 * 2 ** 20 ? 0 : 1)} MiB`;
  if (a >= 2 ** 10) return `${sign}${(a / 2 ** 10).toFixed(0)} KiB`;
  return `${sign}${a.toFixed(0)} B`;
}

export function fmtNum(x: number | undefined, digits = 2): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  return x.toFixed(digits);
}

export function fmtGflops(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

export function fmtGbps(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

/** time / bandwidth-bound time: "≈ 2.4×" (1× = at the machine's measured memory bandwidth). */
export function fmtBwRatio(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  return `≈ ${x >= 10 ? x.toFixed(0) : x.toFixed(1)}×`;
}

export function fmtPct(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  const p = x * 100;
  return p >= 10 ? `${p.toFixed(1)}%` : p >= 1 ? `${p.toFixed(2)}%` : `${p.toFixed(3)}%`;
}

export function fmtCount(x: number): string {
  if (x >= 1e9) return `${(x / 1e9).toFixed(2)}G`;
  if (x >= 1e6) return `${(x / 1e6).toFixed(1)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return String(x);
}

export function fmtRatio(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  return x >= 100 ? `${x.toFixed(0)}×` : x >= 10 ? `${x.toFixed(1)}×` : `${x.toFixed(2)}×`;
}

export function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}
