import type { BenchEvent } from '../orchestrator.js';
import type { CaseRecord, ScoredResult, TargetInfo } from '../types.js';
import { fmtBwRatio, fmtBytes, fmtCount, fmtGbps, fmtGflops, fmtMs, fmtNum, fmtPct, fmtRatio, pad } from './format.js';

/** The terminal view: case headers, one row per target as results arrive, and a progress line on a TTY. */
export class LiveTable {
  private status = '';
  private readonly started = Date.now();
  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly tty = Boolean(out.isTTY),
  ) {}

  private write(text: string): void {
    if (this.tty && this.status) this.out.write('\r\x1b[K');
    this.out.write(text);
    if (this.tty && this.status) this.out.write(this.status);
  }

  private setStatus(s: string): void {
    if (!this.tty) return;
    const width = (this.out.columns ?? 120) - 1;
    this.status = s.length > width ? `${s.slice(0, width - 1)}…` : s;
    this.out.write(`\r\x1b[K${this.status}`);
  }

  targets(infos: TargetInfo[]): void {
    for (const i of infos) this.target(i);
  }

  target(i: TargetInfo): void {
    const state = i.available ? `ok   ${i.device ?? ''}${i.version ? ` [${i.version}]` : ''}` : `--   not available: ${i.reason ?? ''}`;
    const notice = i.notice ? `\n  ${pad('', 22)}      ** ${i.notice} **` : '';
    this.write(`  ${pad(i.label, 22)} ${state}${notice}\n`);
  }

  onEvent(e: BenchEvent): void {
    const elapsed = `${((Date.now() - this.started) / 1000).toFixed(0)} s`;
    if (e.type === 'target') this.target(e.info);
    else if (e.type === 'case') {
      const { case: c, stats } = e.record;
      const nnz = `nnz ${fmtCount(stats.nnz)}${stats.exact ? '' : ' (est.)'}, density ${fmtPct(stats.density)}`;
      this.write(`\n[${e.index + 1}/${e.total}] ${c.id}  ${e.record.description}  (${nnz})\n`);
      this.write(
        `  ${pad('target', 22)} ${pad('time', 10, true)} ${pad('GFLOP/s', 8, true)} ${pad('GB/s', 7, true)} ${pad('×bw', 7, true)} ${pad('dense', 10, true)} ${pad('speedup', 8, true)} ${pad('η', 5, true)} ${pad('peak mem', 10, true)}  check  note\n`,
      );
      this.setStatus(`[${e.index + 1}/${e.total}] ${c.id} … ${elapsed}`);
    } else if (e.type === 'phase') this.setStatus(`[${e.index + 1}/${e.total}] ${e.caseId} · ${e.target}: ${e.phase} … ${elapsed}`);
    else this.write(`${row(e.result)}\n`);
  }

  done(): void {
    if (this.tty && this.status) this.out.write('\r\x1b[K');
    this.status = '';
  }
}

export function row(r: ScoredResult): string {
  const extra = r.notes?.length ? `  [${r.notes.join('; ')}]` : '';
  if (r.status === 'unavailable') return `  ${pad(r.target, 22)} ${pad(r.status, 10, true)}  (see the targets above)${extra}`;
  if (r.status !== 'ok') return `  ${pad(r.target, 22)} ${pad(r.status, 10, true)}  ${r.reason ?? ''}${extra}`;
  const t = r.time!;
  const time = `${fmtMs(r.timeMs)}${t.extrapolated ? '*' : ''}`;
  const dense = r.dense ? `${fmtMs(r.dense.fullMs)}${r.dense.extrapolated ? '*' : ''}` : r.speedupBase && r.speedupBase !== 'self' ? r.speedupBase : '—';
  const check = r.check ? (r.check.ok ? 'ok' : `FAIL ${r.check.maxAbsErr.toExponential(1)}`) : '—';
  const notes = [
    t.warmupOnly ? 'single run incl. warm-up (> --max-run)' : '',
    ...(r.notes ?? []),
    r.denseStatus ? `dense ${r.denseStatus.status}: ${r.denseStatus.reason}` : '',
  ]
    .filter(Boolean)
    .join('; ');
  return `  ${pad(r.target, 22)} ${pad(time, 10, true)} ${pad(fmtGflops(r.gflops), 8, true)} ${pad(fmtGbps(r.gbps), 7, true)} ${pad(fmtBwRatio(r.bandwidthRatio), 7, true)} ${pad(dense, 10, true)} ${pad(fmtRatio(r.speedup), 8, true)} ${pad(fmtNum(r.eta), 5, true)} ${pad(fmtBytes(r.memory?.peakTargetBytes), 10, true)}  ${pad(check, 5)}  ${notes}`;
}

export function summaryLine(records: CaseRecord[]): string {
  let ok = 0;
  let other = 0;
  for (const r of records) for (const x of r.results) x.status === 'ok' ? ok++ : other++;
  return `${records.length} cases, ${ok} measurements ok, ${other} not measured (unavailable / unsupported / n/a / skipped / failed; see the report)`;
}
