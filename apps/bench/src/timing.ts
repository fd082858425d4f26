/** How long to measure: warm-up runs, then repetitions until both minReps and minTimeMs are met (at most maxReps). */
export interface TimingSettings {
  warmup: number;
  minReps: number;
  maxReps: number;
  minTimeMs: number;
  /**
   * Calls shorter than `underMs` (a decode step, a short prefill) warm up for `warmupMs` and get up to `maxReps`
   * repetitions within minTimeMs: a model's decode loop runs thousands of such steps, so their figure is the steady
   * state (engine tier-up done) and a median over many steps, not over ten on a machine whose steps vary by 2×.
   */
  shortCall?: { underMs: number; warmupMs: number; maxReps: number };
}

export interface Timing {
  /** The only run was the first (warm-up) one, because it alone exceeded the run limit: includes one-off costs. */
  warmupOnly?: boolean;
  medianMs: number;
  minMs: number;
  maxMs: number;
  reps: number;
  samplesMs: number[];
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface MeasureOptions<T> {
  /** Wraps the first run, a warm-up one when there is one (e.g. in tf.profile, to read peak tensor memory without an extra run). */
  firstRun?: (run: () => Promise<T>) => Promise<T>;
  /** A first run slower than this is the only one (reported as warmupOnly). */
  slowMs?: number;
  /** Repetitions are cut to fit this time, judged from the warm-up (at least one). */
  budgetMs?: number;
  /** Run before every call, outside the timed region (e.g. bringing a resident kv cache back to the workload's state). */
  before?: () => Promise<void> | void;
  /** Called once when the warm-up is over, before the first call whose time may count. */
  timed?: () => void;
}

/** Times `fn` (wall clock around the awaited call) and returns the timings and the last result. */
export async function measure<T>(fn: () => Promise<T>, s: TimingSettings, o: MeasureOptions<T> = {}): Promise<{ timing: Timing; last: T }> {
  let last: T | undefined;
  let maxReps = Math.max(1, s.maxReps);
  let minReps = Math.min(maxReps, Math.max(1, s.minReps));
  let first = o.firstRun;
  const call = (): Promise<T> => {
    const f = first;
    first = undefined;
    return f ? f(fn) : fn();
  };
  /** One call, `before` outside the timed region: its milliseconds (the result kept in `last`). */
  const timed = async (): Promise<number> => {
    await o.before?.();
    const t0 = performance.now();
    last = await call();
    return performance.now() - t0;
  };
  for (let n = 0; n < s.warmup; n++) {
    const dt = await timed();
    if (n === 0 && o.slowMs !== undefined && dt > o.slowMs)
      return { timing: { warmupOnly: true, medianMs: dt, minMs: dt, maxMs: dt, reps: 1, samplesMs: [dt] }, last: last as T };
    if (o.budgetMs !== undefined) {
      maxReps = Math.min(maxReps, Math.max(1, Math.floor(o.budgetMs / dt)));
      minReps = Math.min(minReps, maxReps);
    }
  }
  const samples: number[] = [];
  let spent = 0;
  o.timed?.();
  if (s.shortCall !== undefined) {
    // The first call after the warm-up says whether the call is short (the warm-up call itself pays one-off costs):
    // a long one is the first repetition, a short one starts the longer warm-up.
    const dt = await timed();
    if (dt >= s.shortCall.underMs) {
      samples.push(dt);
      spent += dt;
    } else {
      maxReps = Math.max(maxReps, o.budgetMs === undefined ? s.shortCall.maxReps : Math.min(s.shortCall.maxReps, Math.floor(o.budgetMs / dt)));
      for (let warm = dt; warm < s.shortCall.warmupMs; ) warm += await timed();
    }
  }
  while (samples.length < maxReps && (samples.length < minReps || spent < s.minTimeMs)) {
    const dt = await timed();
    samples.push(dt);
    spent += dt;
  }
  return {
    timing: { medianMs: median(samples), minMs: Math.min(...samples), maxMs: Math.max(...samples), reps: samples.length, samplesMs: samples },
    last: last as T,
  };
}
