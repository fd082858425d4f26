import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { makeInputs } from './data.js';
import { linkBaselines, score } from './score.js';
import { SOFTWARE_PENDING } from './software.js';
import { type CaseStats, caseStats } from './stats.js';
import type { CaseRecord, ChildSettings, FromChild, ScoredResult, TargetInfo, TargetResult, TargetSpec } from './types.js';
import { type BenchCase, buildPattern, describePattern } from './workloads.js';

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
  onEvent?: (e: BenchEvent) => void;
}

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));
const TAIL = 2000;
/** ANSI colour codes (onnxruntime colours its log lines). */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/** One child process running one target. */
class ChildHandle {
  private readonly proc: ChildProcess;
  private listener: ((m: FromChild) => void) | null = null;
  private exitListener: ((why: string) => void) | null = null;
  private tail = '';
  exited: string | null = null;

  constructor(readonly spec: TargetSpec) {
    this.proc = fork(CHILD, [], { serialization: 'advanced', stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [] });
    const keep = (chunk: Buffer) => {
      this.tail = (this.tail + chunk.toString()).slice(-TAIL);
    };
    this.proc.stdout?.on('data', keep);
    this.proc.stderr?.on('data', keep);
    this.proc.on('message', (m: FromChild) => this.listener?.(m));
    this.proc.on('exit', (code, signal) => {
      this.exited = signal ? `signal ${signal}` : `exit code ${code}`;
      this.exitListener?.(this.exited);
    });
  }

  /** The last lines the child printed (warnings, crash messages). */
  lastOutput(): string {
    return this.tail
      .trim()
      .split('\n')
      .slice(-3)
      .map((l) => l.replace(ANSI, '').trim())
      .join(' | ');
  }

  private await<T>(send: () => void, accept: (m: FromChild) => T | undefined, timeoutMs: number, onOther?: (m: FromChild) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = (f: () => void) => {
        clearTimeout(timer);
        this.listener = null;
        this.exitListener = null;
        f();
      };
      const timer = setTimeout(() => done(() => reject(new ChildFailure('timeout', `no answer within ${(timeoutMs / 1000).toFixed(0)} s`))), timeoutMs);
      this.listener = (m) => {
        const v = accept(m);
        if (v !== undefined) done(() => resolve(v));
        else onOther?.(m);
      };
      this.exitListener = (why) =>
        done(() => reject(new ChildFailure('failed', `the child process died (${why})${this.lastOutput() ? `: ${this.lastOutput()}` : ''}`)));
      if (this.exited) return this.exitListener(this.exited);
      send();
    });
  }

  init(settings: ChildSettings, timeoutMs: number): Promise<TargetInfo> {
    return this.await(
      () => this.proc.send({ type: 'init', spec: this.spec, settings }),
      (m) => (m.type === 'info' ? m.info : undefined),
      timeoutMs,
    );
  }

  run(c: BenchCase, stats: CaseStats, timeoutMs: number, onPhase: (p: string) => void): Promise<TargetResult> {
    return this.await(
      () => this.proc.send({ type: 'run', case: c, stats }),
      (m) => (m.type === 'result' && m.caseId === c.id ? m.result : undefined),
      timeoutMs,
      (m) => {
        if (m.type === 'phase') onPhase(m.phase);
      },
    );
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.send({ type: 'exit' });
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }

  /** Asks the child to drop its cached inputs (no answer). */
  release(): void {
    if (!this.exited) this.proc.send({ type: 'release' });
  }

  kill(): void {
    if (!this.exited) this.proc.kill('SIGKILL');
  }
}

class ChildFailure extends Error {
  constructor(
    readonly status: 'timeout' | 'failed',
    message: string,
  ) {
    super(message);
  }
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

const shapeKey = (c: BenchCase) => `${c.seq}/${c.headDim}/${c.headsQ}/${c.headsKv}`;

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
      const record: CaseRecord = { case: c, description: describePattern(c.pattern, c.window), stats, results: [] };
      records.push(record);
      emit({ type: 'case', index, total: o.cases.length, record });
      for (const child of children) {
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
        const scored = score(label, result, stats);
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
