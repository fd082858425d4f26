import type { CaseRecord } from '../types.js';
import { isDecode, PATTERN_NAMES, seqQ } from '../workloads.js';
import { barChart, lineChart, PALETTE, type Series } from './svg.js';

export interface Chart {
  /** File name suffix, e.g. `time-sliding.svg`. */
  name: string;
  title: string;
  svg: string;
}

/** D, heads and window: the "family" a scaling series keeps fixed while N varies. */
function family(r: CaseRecord): string {
  const c = r.case;
  return `D${c.headDim}-H${c.headsQ}-${c.headsKv}-w${c.window}`;
}

function familyText(key: string): string {
  const [d, h, kv, w] = key.match(/\d+/g)!;
  return `D=${d}, H=${h === kv ? h : `${h}:${kv}`}, w=${w}`;
}

const nLabel = (x: number) => (x >= 1024 ? `${x / 1024}k` : String(x));

/** The family with the most cases (the main scaling sweep). */
function mainFamily(records: CaseRecord[]): string | undefined {
  const counts = new Map<string, number>();
  for (const r of records) counts.set(family(r), (counts.get(family(r)) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

/** One series per target of the measured times over `records`, at x = xOf(record) (hollow: extrapolated). */
function timeSeries(records: CaseRecord[], xOf: (r: CaseRecord) => number, color: (label: string) => string): Series[] {
  const byTarget = new Map<string, Series>();
  for (const r of records)
    for (const x of r.results) {
      if (x.status !== 'ok' || x.timeMs === undefined) continue;
      let s = byTarget.get(x.target);
      if (!s) {
        s = { name: x.target, points: [], dashed: !isBackendLabel(x.target), color: color(x.target) };
        byTarget.set(x.target, s);
      }
      s.points.push({ x: xOf(r), y: x.timeMs, hollow: Boolean(x.time?.extrapolated) });
    }
  return [...byTarget.values()];
}

/**
 * Time vs N per target for every pattern of every family with at least two N (log-log, hollow points
 * extrapolated from a slice of rows), and η per pattern (bars: one group per pattern, one bar per target) at
 * each N of the main family.
 */
export function buildCharts(all: CaseRecord[]): Chart[] {
  const charts: Chart[] = [];
  const records = all.filter((r) => !isDecode(r.case));
  // One colour per target across every chart.
  const labels = [...new Set(all.flatMap((r) => r.results.map((x) => x.target)))];
  const color = (label: string) => PALETTE[labels.indexOf(label) % PALETTE.length]!;
  const families = [...new Set(records.map(family))];
  const main = mainFamily(records);
  for (const fam of families) {
    for (const p of PATTERN_NAMES) {
      const rs = records.filter((r) => family(r) === fam && r.case.pattern === p);
      const ns = [...new Set(rs.map((r) => r.case.seq))].sort((a, b) => a - b);
      if (ns.length < 2) continue;
      const series = timeSeries(rs, (r) => r.case.seq, color);
      if (!series.length) continue;
      const title = `${p}: time vs N (${familyText(fam)})`;
      charts.push({
        name: `time-${p}${fam === main ? '' : `-${fam}`}.svg`,
        title,
        svg: lineChart({
          title,
          xLabel: 'sequence length N',
          yLabel: 'median time per call (ms, log)',
          xLog: true,
          yLog: true,
          xTicks: ns,
          xFormat: nLabel,
          series,
          footnote: 'solid: library backends, dashed: peers; hollow points: extrapolated from a slice of query rows',
        }),
      });
    }
  }
  if (main) {
    const rs = records.filter((r) => family(r) === main);
    for (const N of [...new Set(rs.map((r) => r.case.seq))].sort((a, b) => a - b)) {
      const atN = rs.filter((r) => r.case.seq === N);
      const patterns = PATTERN_NAMES.filter((p) => atN.some((r) => r.case.pattern === p));
      const targets = [...new Set(atN.flatMap((r) => r.results.filter((x) => x.eta !== undefined).map((x) => x.target)))];
      if (!targets.length) continue;
      const title = `sparsity realisation η per pattern at N=${nLabel(N)} (${familyText(main)})`;
      charts.push({
        name: `eta-N${N}.svg`,
        title,
        svg: barChart({
          title,
          yLabel: 'η = speedup over own dense × density',
          groups: patterns,
          series: targets.map((t) => ({
            name: t,
            color: color(t),
            values: patterns.map((p) => atN.find((r) => r.case.pattern === p)?.results.find((x) => x.target === t)?.eta ?? null),
          })),
          refY: { y: 1, label: 'η = 1 (ideal)' },
          footnote: 'ort-gqa: speedup over onnxruntime dense attention; others: over their own dense kernel',
        }),
      });
    }
  }
  charts.push(...decodeCharts(all, color));
  return charts;
}

/** Decode: time per step vs kv cache length per target, for every (Sq, D, heads, w) with at least two cache lengths. */
function decodeCharts(all: CaseRecord[], color: (label: string) => string): Chart[] {
  const charts: Chart[] = [];
  const rs = all.filter((r) => isDecode(r.case));
  const key = (r: CaseRecord) => `Sq${seqQ(r.case)}-D${r.case.headDim}-H${r.case.headsQ}-${r.case.headsKv}-w${r.case.window}`;
  for (const fam of [...new Set(rs.map(key))]) {
    const fr = rs.filter((r) => key(r) === fam);
    const caches = [...new Set(fr.map((r) => r.case.seq - seqQ(r.case)))].sort((a, b) => a - b);
    if (caches.length < 2) continue;
    const series = timeSeries(fr, (r) => r.case.seq - seqQ(r.case), color);
    if (!series.length) continue;
    const c = fr[0]!.case;
    const title = `decode, ${seqQ(c)} new token${seqQ(c) > 1 ? 's' : ''}: time per step vs kv cache (D=${c.headDim}, H=${c.headsQ}:${c.headsKv}, causal window ${c.window})`;
    charts.push({
      name: `decode-time-${fam}.svg`,
      title,
      svg: lineChart({
        title,
        xLabel: 'kv cache length',
        yLabel: 'median time per step (ms, log)',
        xLog: true,
        yLog: true,
        xTicks: caches,
        xFormat: nLabel,
        series,
        footnote: 'solid: library backends, dashed: peers; a sliding window reads the same keys at every cache length',
      }),
    });
  }
  return charts;
}

const BACKENDS = ['reference', 'cpu-wasm', 'webgpu', 'cuda-native', 'tfjs'];
/** A library backend's label: `cpu-wasm@2t`, and its variants (`cpu-wasm kv-cache@2t`). */
export function isBackendLabel(label: string): boolean {
  return BACKENDS.includes(label.split('@')[0]!.split(' ')[0]!);
}
