import { type ChildFailure, ChildHandle } from './child-handle.js';
import { inputsKey, makeInputs } from './data.js';
import { linkBaselines, score } from './score.js';
import { SOFTWARE_PENDING } from './software.js';
import { caseStats } from './stats.js';
import type { CaseRecord, ChildSettings, ScoredResult, TargetInfo, TargetResult, TargetSpec } from './types.js';
import { type BenchCase, buildPattern, describeCase, isDecode } from './workloads.js';

export type BenchEvent =
  | { type: 'target'; info: TargetInfo }
  | { type: 'case'; index: number; total: number; record: CaseRecord }
  | { type: 'phase'; index: number; total: number; caseId: string; target: string; phase: string }
  | { type: 'result'; record: CaseRecord; result: ScoredResult };

export interface OrchestratorOptions {
  specs: TargetSpec[];
  cases: BenchCase[];
  settings: ChildSettings;
  caseTimeoutMs: number;
  initTimeoutMs: number;
  /** The machine's measured memory bandwidth (GB/s): each result's effective GB/s is compared with it. */
  bandwidthGBps?: number;
  onEvent?: (e: BenchEvent) => void;
}

async function startChild(spec: TargetSpec, o: OrchestratorOptions): Promise<{ handle: ChildHandle; info: TargetInfo }> {
  const handle = new ChildHandle(spec);
  try {
    return { handle, info: await handle.init(o.settings, o.initTimeoutMs) };
  } catch (e) {
    handle.kill();
    return {
      handle,
      info: {
        label: spec.label,
        name: spec.name,
        kind: spec.kind,
        available: false,
        threads: spec.threads,
        description: '',
        reason: `could not start: ${(e as Error).message}`,
        ...(spec.software ? { notice: SOFTWARE_PENDING } : {}),
      },
    };
  }
}

const shapeKey = (c: BenchCase) => inputsKey(c);

/** Runs every case on every target (cases outer, targets inner) and returns the records. */
export async function runBenchmark(o: OrchestratorOptions): Promise<{ targets: TargetInfo[]; records: CaseRecord[] }> {
  const emit = o.onEvent ?? (() => undefined);
  const children: { handle: ChildHandle; info: TargetInfo }[] = [];
  for (const spec of o.specs) {
    const child = await startChild(spec, o);
    if (!child.info.available) child.handle.kill();
    children.push(child);
    emit({ type: 'target', info: child.info });
  }
  const records: CaseRecord[] = [];
  // Ctrl-C / kill: a child busy in a kernel would not notice its parent is gone, so end them first.
  const stop = (signal: NodeJS.Signals) => {
    for (const c of children) c.handle.kill();
    process.kill(process.pid, signal);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    stop(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    for (const [index, c] of o.cases.entries()) {
      const pattern = buildPattern(c);
      const stats = caseStats(c, pattern, pattern.kind === 'cluster' ? makeInputs(c) : null);
      const record: CaseRecord = { case: c, description: describeCase(c), stats, results: [] };
      records.push(record);
      emit({ type: 'case', index, total: o.cases.length, record });
      for (const child of children) {
        // A decode-only variant (cpu-wasm kv-cache) has no row in other cases.
        if (child.handle.spec.variant && !isDecode(c)) continue;
        const label = child.info.label;
        let result: TargetResult;
        const t0 = Date.now();
        if (!child.info.available) result = { status: 'unavailable', reason: child.info.reason ?? 'unavailable' };
        else {
          try {
            result = await child.handle.run(c, stats, o.caseTimeoutMs, (phase) =>
              emit({ type: 'phase', index, total: o.cases.length, caseId: c.id, target: label, phase }),
            );
          } catch (e) {
            const f = e as ChildFailure;
            result = { status: f.status ?? 'failed', reason: f.message };
            // Start a fresh child for the next cases (the old one is dead or stuck).
            child.handle.kill();
            const fresh = await startChild(child.handle.spec, o);
            child.handle = fresh.handle;
            if (!fresh.info.available) {
              fresh.handle.kill();
              child.info = { ...child.info, available: false, reason: `after a ${result.status} on ${c.id}: ${fresh.info.reason}` };
            }
          }
        }
        const scored = score(label, result, stats, o.bandwidthGBps);
        // A caveat of the target (a software adapter) goes with every figure of it, in every output.
        const notice = child.info.notice;
        if (notice && !scored.notes?.includes(notice)) scored.notes = [notice, ...(scored.notes ?? [])];
        scored.wallMs = Date.now() - t0;
        record.results.push(scored);
        if (label.startsWith('ort-gqa')) linkBaselines(record.results, stats);
        emit({ type: 'result', record, result: scored });
      }
      const next = o.cases[index + 1];
      if (!next || shapeKey(next) !== shapeKey(c)) for (const child of children) if (child.info.available) child.handle.release();
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await Promise.all(children.map((c) => c.handle.close().catch(() => c.handle.kill())));
  }
  return { targets: children.map((c) => c.info), records };
}
