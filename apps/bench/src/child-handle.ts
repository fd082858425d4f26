import { type ChildProcess, fork } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { CaseStats } from './stats.js';
import type { ChildSettings, FromChild, TargetInfo, TargetResult, TargetSpec, ToChild } from './types.js';
import type { BenchCase } from './workloads.js';

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));
const TAIL = 2000;
/** ANSI colour codes (onnxruntime colours its log lines). */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
/** How long a child with a broken channel gets to report its exit status. */
const EXIT_GRACE_MS = 1000;
/** How long a child asked to exit gets before SIGKILL. */
const CLOSE_GRACE_MS = 5000;

/** Why a child gave no answer: it ran out of time, or it is dead (crashed, killed, or its channel broke). */
export class ChildFailure extends Error {
  constructor(
    readonly status: 'timeout' | 'failed',
    message: string,
  ) {
    super(message);
  }
}

/**
 * One child process running one target. A child can die at any moment (a native crash, SIGKILL, no adapter), so
 * nothing here writes to it unless its channel is still open, every write reports its own failure, and a dead child
 * only ever shows up as a rejected `init` / `run` (a ChildFailure), never as an unhandled 'error' event.
 */
export class ChildHandle {
  private readonly proc: ChildProcess;
  private listener: ((m: FromChild) => void) | null = null;
  private deathListener: ((why: string) => void) | null = null;
  private tail = '';
  /** Why the child is gone (its exit status, or the error that broke its channel); null while it lives. */
  private gone: string | null = null;
  /** Why the channel to the child broke; null while it works. */
  private broken: string | null = null;
  private readonly exited: Promise<void>;

  constructor(readonly spec: TargetSpec) {
    this.proc = fork(CHILD, [], { serialization: 'advanced', stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [] });
    const keep = (chunk: Buffer) => {
      this.tail = (this.tail + chunk.toString()).slice(-TAIL);
    };
    this.proc.stdout?.on('data', keep);
    this.proc.stderr?.on('data', keep);
    this.proc.on('message', (m: FromChild) => this.listener?.(m));
    // A write to a child that just died fails with EPIPE, emitted here; spawn failures come here too.
    const onError = (e: Error) => this.broke(`its channel failed: ${e.message}`);
    this.proc.on('error', onError);
    for (const emitter of [this.proc.stdout, this.proc.stderr, this.proc.channel as EventEmitter | null | undefined]) emitter?.on?.('error', onError);
    this.proc.on('disconnect', () => this.broke('its channel closed'));
    this.exited = new Promise((resolve) =>
      this.proc.on('exit', (code, signal) => {
        this.die(signal ? `signal ${signal}` : `exit code ${code}`);
        resolve();
      }),
    );
  }

  /**
   * The channel broke: nothing more can be sent. The exit status usually follows at once and says more (a signal,
   * a code), so a pending call waits a moment for it before it fails with the channel's error.
   */
  private broke(why: string): void {
    if (this.broken !== null) return;
    this.broken = why;
    setTimeout(() => this.die(why), EXIT_GRACE_MS).unref();
  }

  private die(why: string): void {
    if (this.gone !== null) return;
    this.gone = why;
    this.deathListener?.(why);
  }

  /** Whether messages can still reach the child. */
  private get reachable(): boolean {
    return this.gone === null && this.broken === null && !this.proc.killed && this.proc.connected;
  }

  /** Sends when the child can still receive; a write that fails afterwards counts as the child's death. */
  private post(msg: ToChild): boolean {
    if (!this.reachable) return false;
    try {
      this.proc.send(msg, (e) => {
        if (e) this.broke(`a message could not be sent (${e.message})`);
      });
      return true;
    } catch (e) {
      this.broke(`a message could not be sent (${(e as Error).message})`);
      return false;
    }
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

  private deadFailure(why: string): ChildFailure {
    const output = this.lastOutput();
    return new ChildFailure('failed', `the child process died (${why})${output ? `: ${output}` : ''}`);
  }

  private await<T>(msg: ToChild, accept: (m: FromChild) => T | undefined, timeoutMs: number, onOther?: (m: FromChild) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = (f: () => void) => {
        clearTimeout(timer);
        this.listener = null;
        this.deathListener = null;
        f();
      };
      const timer = setTimeout(() => done(() => reject(new ChildFailure('timeout', `no answer within ${(timeoutMs / 1000).toFixed(0)} s`))), timeoutMs);
      this.listener = (m) => {
        const v = accept(m);
        if (v !== undefined) done(() => resolve(v));
        else onOther?.(m);
      };
      this.deathListener = (why) => done(() => reject(this.deadFailure(why)));
      if (!this.post(msg)) {
        if (this.gone !== null) return this.deathListener(this.gone);
        // Dying already (killed, or its channel broke): make sure it ends; its exit status ends the wait.
        this.kill();
        this.broke('its channel is closed');
      }
    });
  }

  init(settings: ChildSettings, timeoutMs: number): Promise<TargetInfo> {
    return this.await({ type: 'init', spec: this.spec, settings }, (m) => (m.type === 'info' ? m.info : undefined), timeoutMs);
  }

  run(c: BenchCase, stats: CaseStats, timeoutMs: number, onPhase: (p: string) => void): Promise<TargetResult> {
    return this.await(
      { type: 'run', case: c, stats },
      (m) => (m.type === 'result' && m.caseId === c.id ? m.result : undefined),
      timeoutMs,
      (m) => {
        if (m.type === 'phase') onPhase(m.phase);
      },
    );
  }

  /** Asks the child to exit (SIGKILL after a grace period, at once if it cannot be reached) and waits until it has. Never rejects. */
  async close(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    if (!this.post({ type: 'exit' })) this.kill();
    let timer: NodeJS.Timeout | undefined;
    // A process that never started has no exit to wait for: give up a grace period after the SIGKILL.
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.kill();
        timer = setTimeout(resolve, CLOSE_GRACE_MS);
      }, CLOSE_GRACE_MS);
    });
    await Promise.race([this.exited, late]);
    clearTimeout(timer);
  }

  /** Asks the child to drop its cached inputs (no answer; a dead child has nothing to drop). */
  release(): void {
    this.post({ type: 'release' });
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null && !this.proc.killed) this.proc.kill('SIGKILL');
  }
}
