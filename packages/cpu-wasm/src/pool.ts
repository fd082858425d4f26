import { SparseAttentionError } from '@sparse/core';
import { CTX_PTR, PHASE_ATTEND } from './abi.js';
import type { Phase } from './instance.js';
import type { Platform, WorkerHandle } from './platform/types.js';
import type { FromWorker } from './protocol.js';
import type { Outcome, Runner } from './runner.js';

interface Slot {
  wid: number;
  handle: WorkerHandle | null;
  dead: boolean;
  ready: Promise<void>;
  pending: Map<number, (o: Outcome) => void>;
}

/**
 * `threads` workers, each with its own instance of the kernel on one shared WebAssembly.Memory. A phase is
 * posted to every worker; they take chunks of tasks from an atomic counter in the memory until none is left. A
 * worker that dies is noticed (its pending phase ends with `death`) and replaced before the next call.
 */
export class WorkerPool implements Runner {
  readonly shared = true;
  private slots: Slot[] = [];
  private seq = 0;
  private held = false;
  /** Fault drill: the worker with this id ends itself instead of running the next `attend` phase. */
  killOnNextAttend = -1;

  constructor(
    private readonly platform: Platform,
    readonly threads: number,
    private readonly module: WebAssembly.Module,
    readonly memory: WebAssembly.Memory,
    readonly maxBytes: number,
  ) {}

  private spawn(wid: number): Slot {
    const slot: Slot = { wid, handle: null, dead: false, ready: Promise.resolve(), pending: new Map() };
    slot.ready = new Promise<void>((resolve, reject) => {
      let up = false;
      const onMessage = (m: FromWorker) => {
        if (m.type === 'up') {
          slot.handle?.post({ type: 'init', module: this.module, memory: this.memory, wid });
        } else if (m.type === 'ready') {
          up = true;
          resolve();
        } else if (m.type === 'done') {
          settle(m.id, { ok: true, rc: m.rc });
        } else if (m.type === 'error') {
          if (m.id === -1) reject(new SparseAttentionError('BACKEND_UNAVAILABLE', `cpu-wasm: worker ${wid} could not start the kernel: ${m.message}`));
          else settle(m.id, { ok: false, kind: m.trap ? 'trap' : 'error', message: m.message });
        }
      };
      const settle = (id: number, o: Outcome) => {
        const fn = slot.pending.get(id);
        slot.pending.delete(id);
        fn?.(o);
      };
      const onDeath = (reason: string) => {
        slot.dead = true;
        if (!up) reject(new SparseAttentionError('BACKEND_UNAVAILABLE', `cpu-wasm: worker ${wid} failed to start (${reason})`));
        for (const [id] of [...slot.pending]) settle(id, { ok: false, kind: 'death', message: `worker ${wid}: ${reason}` });
      };
      this.platform.spawnWorker({ message: onMessage, death: onDeath }).then(
        (h) => {
          slot.handle = h;
          if (slot.dead) void h.terminate();
        },
        (e) => {
          slot.dead = true;
          reject(new SparseAttentionError('BACKEND_UNAVAILABLE', `cpu-wasm: cannot start a worker thread: ${(e as Error).message}`, { cause: e }));
        },
      );
    });
    // A failed start is reported by ready(); keep it from becoming an unhandled rejection meanwhile.
    slot.ready.catch(() => undefined);
    return slot;
  }

  async ready(): Promise<void> {
    for (let w = 0; w < this.threads; w++) {
      const s = this.slots[w];
      if (!s || s.dead) {
        if (s?.handle) await s.handle.terminate().catch(() => undefined);
        this.slots[w] = this.spawn(w);
      }
    }
    try {
      await Promise.all(this.slots.map((s) => s.ready));
      // Idle workers do not keep Node alive; hold(true) references them during a call.
      this.hold(this.held);
    } catch (e) {
      // Do not keep half a pool: the next call starts every failed worker again.
      for (const s of this.slots) if (s.dead && s.handle) await s.handle.terminate().catch(() => undefined);
      throw e;
    }
  }

  hold(on: boolean): void {
    this.held = on;
    for (const s of this.slots) {
      if (!s.handle || s.dead) continue;
      if (on) s.handle.ref();
      else s.handle.unref();
    }
  }

  run(phase: Phase): Promise<Outcome[]> {
    const id = ++this.seq;
    const kill = phase === PHASE_ATTEND ? this.killOnNextAttend : -1;
    if (kill >= 0) this.killOnNextAttend = -1;
    return Promise.all(
      this.slots.map((slot) => {
        if (slot.dead || !slot.handle) return Promise.resolve<Outcome>({ ok: false, kind: 'death', message: `worker ${slot.wid} is not running` });
        const handle = slot.handle;
        return new Promise<Outcome>((resolve) => {
          slot.pending.set(id, resolve);
          if (slot.wid === kill) handle.post({ type: 'die', code: 70 });
          else handle.post({ type: 'run', id, phase, ctx: CTX_PTR });
        });
      }),
    );
  }

  async dispose(): Promise<void> {
    const slots = this.slots;
    this.slots = [];
    await Promise.all(
      slots.map(async (s) => {
        s.dead = true;
        await s.handle?.terminate().catch(() => undefined);
      }),
    );
  }
}
