/**
 * A row of key blocks as a piecewise-constant function over [0, numKBlocks): value 0 = skipped, 1 = partial
 * (some pairs allowed, maybe all), 2 = full (every in-range pair allowed). Union is max, intersect is min and
 * not is 2 - v, which is what makes block classification compose exactly.
 */
export const EMPTY = 0;
export const PARTIAL = 1;
export const FULL = 2;

export interface Runs {
  /** starts[0] == 0; run n covers [starts[n], starts[n + 1]) (the last one ends at numKBlocks). */
  starts: number[];
  vals: number[];
}

export function constantRuns(value: number): Runs {
  return { starts: [0], vals: [value] };
}

/** Appends [start, end) with value v to a runs under construction (segments in increasing order). */
function push(r: Runs, start: number, end: number, v: number): void {
  if (end <= start) return;
  const n = r.vals.length;
  if (n > 0 && r.vals[n - 1] === v) return; // runs are contiguous: the previous run simply extends
  r.starts.push(start);
  r.vals.push(v);
}

/** Runs from sorted, non-overlapping [start, end) segments of one value; the gaps are EMPTY. */
export function runsFromIntervals(intervals: number[], value: number, numKBlocks: number): Runs {
  const r: Runs = { starts: [], vals: [] };
  let at = 0;
  for (let n = 0; n < intervals.length; n += 2) {
    const s = Math.max(intervals[n]!, at);
    const e = Math.min(intervals[n + 1]!, numKBlocks);
    if (e <= s) continue;
    push(r, at, s, EMPTY);
    push(r, s, e, value);
    at = e;
  }
  push(r, at, numKBlocks, EMPTY);
  if (r.vals.length === 0) return constantRuns(EMPTY);
  return r;
}

/** Sorts [start, end) pairs and merges overlapping or touching ones. */
export function mergeIntervals(pairs: number[]): number[] {
  const n = pairs.length / 2;
  if (n <= 1) return pairs;
  const order = Array.from({ length: n }, (_, k) => k).sort((a, b) => pairs[2 * a]! - pairs[2 * b]!);
  const out: number[] = [];
  for (const k of order) {
    const s = pairs[2 * k]!;
    const e = pairs[2 * k + 1]!;
    const last = out.length - 1;
    if (last > 0 && s <= out[last]!) out[last] = Math.max(out[last]!, e);
    else out.push(s, e);
  }
  return out;
}

/** Pointwise combination of two runs. */
export function combineRuns(a: Runs, b: Runs, op: (x: number, y: number) => number, numKBlocks: number): Runs {
  const r: Runs = { starts: [], vals: [] };
  let ia = 0;
  let ib = 0;
  let at = 0;
  while (at < numKBlocks) {
    const endA = ia + 1 < a.starts.length ? a.starts[ia + 1]! : numKBlocks;
    const endB = ib + 1 < b.starts.length ? b.starts[ib + 1]! : numKBlocks;
    const end = Math.min(endA, endB);
    push(r, at, end, op(a.vals[ia]!, b.vals[ib]!));
    at = end;
    if (end === endA) ia++;
    if (end === endB) ib++;
  }
  return r.vals.length ? r : constantRuns(EMPTY);
}

export const maxOp = (x: number, y: number): number => Math.max(x, y);
export const minOp = (x: number, y: number): number => Math.min(x, y);

export function invertRuns(a: Runs): Runs {
  return { starts: a.starts.slice(), vals: a.vals.map((v) => FULL - v) };
}
