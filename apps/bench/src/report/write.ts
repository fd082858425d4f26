import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineInfo } from '../machine.js';
import type { CaseRecord, TargetInfo } from '../types.js';
import { buildCharts } from './charts.js';
import { markdownReport } from './markdown.js';

export interface BenchOutput {
  schema: 1;
  startedAt: string;
  finishedAt: string;
  durationS: number;
  command: string;
  quick: boolean;
  sweep: string[];
  settings: unknown;
  machine: MachineInfo;
  targets: TargetInfo[];
  cases: CaseRecord[];
}

export interface WrittenFiles {
  json: string;
  markdown: string;
  latest: string;
  charts: string[];
}

/** Writes `<stamp>.json`, `<stamp>.md`, `latest.md` (and `latest.json`) and the charts `<stamp>-*.svg` into `dir`. */
export function writeOutputs(dir: string, stamp: string, data: BenchOutput): WrittenFiles {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, `${stamp}.json`);
  writeFileSync(json, `${JSON.stringify(data, null, 1)}\n`);
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(data, null, 1)}\n`);
  const charts = buildCharts(data.cases).map((c) => {
    const file = `${stamp}-${c.name}`;
    writeFileSync(join(dir, file), c.svg);
    return { file, title: c.title };
  });
  const md = markdownReport({
    title: 'Sparse attention benchmark',
    startedAt: data.startedAt,
    durationS: data.durationS,
    command: data.command,
    quick: data.quick,
    sweep: data.sweep,
    machine: data.machine,
    targets: data.targets,
    records: data.cases,
    charts,
    jsonFile: `${stamp}.json`,
  });
  const markdown = join(dir, `${stamp}.md`);
  writeFileSync(markdown, md);
  const latest = join(dir, 'latest.md');
  writeFileSync(latest, md);
  return { json, markdown, latest, charts: charts.map((c) => join(dir, c.file)) };
}
