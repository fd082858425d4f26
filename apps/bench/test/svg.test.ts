import { describe, expect, it } from 'vitest';
import { buildCharts } from '../src/report/charts.js';
import { barChart, escapeXml, lineChart } from '../src/report/svg.js';
import type { CaseRecord } from '../src/types.js';
import { makeCase } from '../src/workloads.js';

/** A small XML well-formedness check: balanced tags, quoted attributes, known entities, one root <svg>. */
function assertWellFormedSvg(xml: string): void {
  expect(xml.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  let i = 0;
  let roots = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt < 0 ? xml.length : lt);
    for (const m of text.matchAll(/&([^;\s]*);?/g)) expect(['amp', 'lt', 'gt', 'quot', 'apos']).toContain(m[1]);
    expect(text.includes('>')).toBe(false);
    if (lt < 0) break;
    tag.lastIndex = lt;
    const m = tag.exec(xml);
    if (!m) throw new Error(`malformed tag at ${lt}: ${xml.slice(lt, lt + 60)}`);
    const [, close, name, , self] = m;
    if (close) expect(stack.pop()).toBe(name);
    else if (!self) {
      if (!stack.length) roots++;
      stack.push(name!);
    } else if (!stack.length) roots++;
    i = tag.lastIndex;
  }
  expect(stack).toEqual([]);
  expect(roots).toBe(1);
}

describe('SVG charts', () => {
  it('a log-log line chart is well-formed and escapes text', () => {
    const svg = lineChart({
      title: 'time <vs> N & "more"',
      xLabel: 'N',
      yLabel: 'ms',
      xLog: true,
      yLog: true,
      series: [
        {
          name: "a's",
          points: [
            { x: 1024, y: 3 },
            { x: 4096, y: 40, hollow: true },
          ],
        },
        { name: 'b', points: [{ x: 1024, y: 0.5 }], dashed: true },
      ],
      refY: { y: 1, label: 'one' },
      footnote: 'x < y',
    });
    assertWellFormedSvg(svg);
    expect(svg).toContain('time &lt;vs&gt; N &amp; &quot;more&quot;');
    expect(svg).toContain('<polyline');
    expect(svg).toContain('fill="#ffffff"'); // the hollow point
    expect(svg).not.toContain('NaN');
    for (const t of ['>0.1<', '>1<', '>10<', '>100<']) expect(svg).toContain(t); // decade ticks of the log y axis
  });

  it('a grouped bar chart is well-formed, with gaps for missing values', () => {
    const svg = barChart({
      title: 'η',
      yLabel: 'η',
      groups: ['sliding', 'topk'],
      series: [
        { name: 'x', values: [0.8, null] },
        { name: 'y', values: [0.4, 1.2] },
      ],
      refY: { y: 1, label: 'ideal' },
    });
    assertWellFormedSvg(svg);
    expect(svg.match(/<\/rect>/g)?.length).toBe(3); // bars carry a <title> tooltip; the missing value draws none
  });

  it('escapeXml covers the five XML entities', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });

  it('buildCharts makes a time chart per pattern with two N and an η chart per N', () => {
    const rec = (seq: number, ms: number): CaseRecord => ({
      case: makeCase('sliding', { seq, headDim: 64, headsQ: 8, headsKv: 8, window: 256 }),
      description: '',
      stats: {} as CaseRecord['stats'],
      results: [
        {
          target: 'cpu-wasm@2t',
          status: 'ok',
          timeMs: ms,
          eta: 0.9,
          time: { rows: seq, extrapolated: false, fullMs: ms, medianMs: ms, minMs: ms, maxMs: ms, reps: 1, samplesMs: [ms] },
        },
        { target: 'ort-dense@2t', status: 'failed', reason: 'x' },
      ],
    });
    const charts = buildCharts([rec(1024, 2), rec(4096, 8)]);
    expect(charts.map((c) => c.name)).toEqual(['time-sliding.svg', 'eta-N1024.svg', 'eta-N4096.svg']);
    for (const c of charts) assertWellFormedSvg(c.svg);
  });
});
