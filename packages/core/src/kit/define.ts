import type { Backend, ProbeResult, RunInfo } from '../backend.js';
import { isSparseAttentionError, type SparseAttentionError } from '../errors.js';
import { type AttentionPlan, type AttentionRequest, type AttentionResult, ownedRequest, planAttention } from '../request.js';
import { FLOAT32_TOLERANCE, type Tolerance } from '../tolerance.js';
import { abortedError, disposedError, internalError, type Refusal, throwIfAborted, throwRefusal, unavailableError } from './errors.js';

export type { Refusal } from './errors.js';

import type { ResolvedOptions } from './options.js';
import { emptyResult, gatherPiece, isWhole, type Piece, planPieces, scatterPiece } from './pieces.js';

/**
 * What a backend writes: its device code. The kit (defineBackend) does the rest the same way for every backend:
 * validation and planning, abort, the pieces a call runs as, the snapshot of the caller's inputs, result shapes,
 * typed errors, supports(), tolerance(), lastRun() and the disposed state.
 */
export interface DeviceCode<Ctx, Info extends object = object> {
  readonly name: string;
  /** Starts the device (lazily, once; again after a failure or a lost device). Throw to say it is unavailable here. */
  start(): Promise<Ctx>;
  /** The device in words, for probe(). */
  describe(ctx: Ctx): string;
  /** Refuses the plan of one piece before anything runs (limits, memory). `ctx` is null until the device started. */
  check?(plan: AttentionPlan, ctx: Ctx | null): Refusal | null;
  /** Bytes the device holds for a piece: pieces above `maxPieceBytes` run as groups of (batch entry, kv heads). */
  pieceBytes?(plan: AttentionPlan): number;
  maxPieceBytes?: number;
  /**
   * Runs one piece. Everything it reads from `request` it reads before its first await (an upload or a copy into
   * device memory): the kit hands over the caller's own arrays when the device is started and free.
   */
  run(ctx: Ctx, request: AttentionRequest, plan: AttentionPlan, signal: AbortSignal | undefined): Promise<AttentionResult>;
  /**
   * Runs every piece of a call itself, reading the request's rows at the pieces' strides (the residue groups of a
   * dilated call): the inputs are taken once, with no gather and scatter per piece. Like run(), it reads `request`
   * before its first await. The kit uses it when the pieces are more than one, each covers every (batch entry, kv
   * head), and `fitsStrided` (default: always) says the whole call fits the device; otherwise it runs the pieces.
   */
  runStrided?(ctx: Ctx, request: AttentionRequest, plan: AttentionPlan, pieces: readonly Piece[], signal: AbortSignal | undefined): Promise<AttentionResult>;
  fitsStrided?(plan: AttentionPlan, pieces: readonly Piece[], ctx: Ctx | null): boolean;
  /** Frees what start() made (dispose, or a lost device). */
  release(ctx: Ctx): Promise<void>;
  /**
   * Types a failure during a call (SparseAttentionErrors are kept as they are). Return DEVICE_LOST when the device
   * is gone: the kit then releases it and the next call starts a new one. Anything left untyped becomes INTERNAL.
   */
  translate?(error: unknown, ctx: Ctx): SparseAttentionError | undefined | Promise<SparseAttentionError | undefined>;
  /** Calls run one at a time (one memory shared by every call). */
  serial?: boolean;
  /**
   * The device reads the request's arrays after run() returns (an addon reading them on another thread): the kit
   * then always hands run() private copies, taken before attention() returns, and the device copies nothing itself.
   */
  readsLate?: boolean;
  /** The tolerance results meet against the float64 reference (default float32's); `request` when it depends on it. */
  tolerance?(request?: AttentionRequest): Tolerance;
  /** The device's own figures of the last piece run, added to lastRun(). */
  runInfo?(ctx: Ctx): Info | null;
}

/** The kit's handle on a backend's state, for the entry points a backend adds (resident tensors, profiling). */
export interface Kit<Ctx> {
  /** Runs `fn` like a call: refused once disposed, after the device started, serialised, errors typed. */
  call<T>(fn: (ctx: Ctx) => Promise<T>, signal?: AbortSignal): Promise<T>;
  /**
   * The synchronous front of an entry point: refused once disposed, then `start` runs now (validation, copies of
   * the caller's data); whatever it throws becomes the rejection of the promise it returns.
   */
  gate<T>(start: () => Promise<T>): Promise<T>;
  /** The device's refusal of a plan (its `check` over the pieces the call would run as), thrown as a SparseAttentionError. */
  check(plan: AttentionPlan): void;
  /** The started device, or null. */
  live(): Ctx | null;
  /** Whether dispose() was called. */
  disposed(): boolean;
  /** Records a run for lastRun() (the kit does so for attention()). */
  record(ctx: Ctx, pieces: number, ms: number): void;
}

/** A Backend made by the kit: lastRun() carries the device's own figures (its runInfo) beside the shared ones. */
export interface KitBackend<Info extends object = object> extends Backend {
  lastRun(): (RunInfo & Partial<Info>) | null;
}

/**
 * A Backend from device code and the resolved shared options. `extend` adds the backend's own entry points on top
 * (they get the kit to run through the same gates).
 */
export function defineBackend<Ctx, Info extends object, Extra extends object = object>(
  device: DeviceCode<Ctx, Info>,
  options: ResolvedOptions,
  extend?: (kit: Kit<Ctx>, backend: KitBackend<Info>) => Extra,
): KitBackend<Info> & Extra {
  const { name } = device;
  let starting: Promise<Ctx> | null = null;
  let live: Ctx | null = null;
  let disposed = false;
  let disposal: Promise<void> | null = null;
  let last: (RunInfo & Partial<Info>) | null = null;
  const inFlight = new Set<Promise<unknown>>();
  let queue: Promise<unknown> = Promise.resolve();
  let busy = 0;

  const started = (): Promise<Ctx> => {
    starting ??= device.start().then(
      (ctx) => {
        live = ctx;
        return ctx;
      },
      (e) => {
        starting = null;
        throw unavailableError(name, e);
      },
    );
    return starting;
  };

  /** Forgets a lost device (released quietly): the next call starts a new one. */
  const forget = async (ctx: Ctx) => {
    if (live !== ctx) return;
    live = null;
    starting = null;
    await device.release(ctx).catch(() => undefined);
  };

  const typed = async (e: unknown, ctx: Ctx | null): Promise<SparseAttentionError> => {
    if (disposed && !isSparseAttentionError(e)) return disposedError(name);
    let err: SparseAttentionError | undefined = isSparseAttentionError(e) ? e : undefined;
    if (ctx !== null && device.translate) {
      try {
        err = (await device.translate(e, ctx)) ?? err;
      } catch {
        // a translator that fails keeps the error as it was
      }
    }
    err ??= internalError(name, e);
    if (err.code === 'DEVICE_LOST' && ctx !== null) await forget(ctx);
    return err;
  };

  /** Serialises `fn` behind the calls before it when the device is serial; counts it in flight for dispose(). */
  const schedule = <T>(fn: () => Promise<T>): Promise<T> => {
    busy++;
    const job = () => fn().finally(() => busy--);
    const p = device.serial ? queue.then(job, job) : job();
    if (device.serial) queue = p.catch(() => undefined);
    const tracked: Promise<unknown> = p.then(
      () => inFlight.delete(tracked),
      () => inFlight.delete(tracked),
    );
    inFlight.add(tracked);
    return p;
  };

  /** The pieces of a validated plan, each checked against the device (supports() and attention() share this). */
  const piecesOf = (plan: AttentionPlan, ctx: Ctx | null): Piece[] => {
    const pieces = planPieces(plan, {
      partitionDilation: options.partitionDilation,
      ...(device.pieceBytes ? { pieceBytes: (p: AttentionPlan) => device.pieceBytes!(p) } : {}),
      ...(device.maxPieceBytes !== undefined ? { maxPieceBytes: device.maxPieceBytes } : {}),
    });
    if (device.check) {
      // Pieces of one shape are checked once: the head groups of every batch entry look alike.
      const seen = new Set<string>();
      for (const { plan: p, select: s } of pieces) {
        const key = `${s.kv0}:${s.kv1}:${s.qCount}:${s.kCount}:${p.offset}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const refusal = device.check(p, ctx);
        throwRefusal(refusal);
      }
    }
    return pieces;
  };

  /** Whether the device runs these pieces itself at their strides (see DeviceCode.runStrided). */
  const runsStrided = (plan: AttentionPlan, pieces: readonly Piece[], ctx: Ctx | null): boolean =>
    device.runStrided !== undefined &&
    pieces.length > 1 &&
    pieces.every(({ select: s }) => s.b0 === 0 && s.b1 === plan.batch && s.kv0 === 0 && s.kv1 === plan.headsKv) &&
    (device.fitsStrided?.(plan, pieces, ctx) ?? true);

  const record = (ctx: Ctx, pieces: number, ms: number) => {
    last = { backend: name, device: device.describe(ctx), pieces, ms, ...(device.runInfo?.(ctx) ?? {}) } as RunInfo & Partial<Info>;
  };

  const attention = (request: AttentionRequest, signal: AbortSignal | undefined): Promise<AttentionResult> => {
    // Everything that reads the caller's request happens before the promise is returned.
    const t0 = performance.now();
    let pieces: Piece[];
    let plan: AttentionPlan;
    try {
      if (disposed) throw disposedError(name);
      throwIfAborted(signal);
      plan = planAttention(request);
      pieces = piecesOf(plan, live);
    } catch (e) {
      return Promise.reject(isSparseAttentionError(e) ? e : internalError(name, e));
    }
    const ctx = live;
    const whole = pieces.length === 1 && isWhole(plan, pieces[0]!.select);
    const strided = runsStrided(plan, pieces, ctx);
    const direct = (whole || strided) && ctx !== null && !(device.serial && busy > 0) && !device.readsLate;
    if (direct) {
      // Started and free: the device takes the caller's arrays now (upload or copy); no snapshot is needed.
      let running: Promise<AttentionResult>;
      try {
        running = strided ? device.runStrided!(ctx, request, plan, pieces, signal) : device.run(ctx, request, plan, signal);
      } catch (e) {
        running = Promise.reject(e);
      }
      return schedule(async () => {
        try {
          const result = await running;
          record(ctx, pieces.length, performance.now() - t0);
          return result;
        } catch (e) {
          throw await typed(e, ctx);
        }
      });
    }
    // Otherwise the call keeps private copies: the whole request (one piece, or pieces the device runs strided), or
    // each piece's rows.
    const owned = strided ? ownedRequest(request, plan) : null;
    const inputs = owned ? [] : pieces.map((p) => gatherPiece(request, plan, p));
    // The pieces were checked against the live device; before it started (or after it was replaced) they are checked
    // again against the one the call runs on.
    const checkedWith = ctx;
    return schedule(async () => {
      let ctx: Ctx | null = null;
      try {
        ctx = await started();
        throwIfAborted(signal);
        if (ctx !== checkedWith) piecesOf(plan, ctx);
        if (owned && runsStrided(plan, pieces, ctx)) {
          const result = await device.runStrided!(ctx, owned, plan, pieces, signal);
          record(ctx, pieces.length, performance.now() - t0);
          return result;
        }
        if (owned) for (const p of pieces) inputs.push(gatherPiece(owned, plan, p));
        if (whole) {
          const result = await device.run(ctx, inputs[0]!, pieces[0]!.plan, signal);
          record(ctx, 1, performance.now() - t0);
          return result;
        }
        const result = emptyResult(plan);
        for (let n = 0; n < pieces.length; n++) {
          throwIfAborted(signal);
          scatterPiece(result, await device.run(ctx, inputs[n]!, pieces[n]!.plan, signal), plan, pieces[n]!);
          inputs[n] = undefined as unknown as AttentionRequest; // a finished piece's copies can go
        }
        record(ctx, pieces.length, performance.now() - t0);
        return result;
      } catch (e) {
        throw await typed(e, ctx);
      }
    });
  };

  const backend: KitBackend<Info> = {
    name,
    async probe(): Promise<ProbeResult> {
      if (disposed) return { available: false, reason: disposedError(name).message };
      try {
        return { available: true, device: device.describe(await started()) };
      } catch (e) {
        return { available: false, reason: (e as Error)?.message ?? String(e) };
      }
    },
    supports(request) {
      if (disposed) return disposedError(name).message;
      try {
        piecesOf(planAttention(request), live);
        return true;
      } catch (e) {
        return isSparseAttentionError(e) ? e.message : internalError(name, e).message;
      }
    },
    attention(request, opts) {
      return attention(request, opts?.signal);
    },
    tolerance(request) {
      return device.tolerance ? device.tolerance(request) : { ...FLOAT32_TOLERANCE };
    },
    lastRun() {
      return last;
    },
    /** Final and idempotent: calls already made finish first, later ones are refused, then the device is released. */
    dispose() {
      disposed = true;
      disposal ??= (async () => {
        await Promise.allSettled([...inFlight]);
        const s = starting;
        starting = null;
        live = null;
        const ctx = s ? await s.catch(() => null) : null;
        if (ctx !== null) await device.release(ctx);
      })();
      return disposal;
    },
  };

  const kit: Kit<Ctx> = {
    call(fn, signal) {
      if (disposed) return Promise.reject(disposedError(name));
      if (signal?.aborted) return Promise.reject(abortedError());
      return schedule(async () => {
        let ctx: Ctx | null = null;
        try {
          ctx = await started();
          throwIfAborted(signal);
          return await fn(ctx);
        } catch (e) {
          throw await typed(e, ctx);
        }
      });
    },
    gate(start) {
      if (disposed) return Promise.reject(disposedError(name));
      try {
        return start();
      } catch (e) {
        return Promise.reject(isSparseAttentionError(e) ? e : internalError(name, e));
      }
    },
    check(plan) {
      piecesOf(plan, live);
    },
    live: () => live,
    disposed: () => disposed,
    record,
  };
  const extra = extend ? extend(kit, backend) : ({} as Extra);
  return Object.assign(backend, extra);
}
