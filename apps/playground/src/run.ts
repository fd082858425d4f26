import { backendFor, forget } from './backends.js';
import { compile, rowNnz } from './mask.js';
import { type AttentionRequest, type HostTensor, isSparseAttentionError, type Pattern, referenceRows } from './sparse.js';
import type { BackendId, RunState } from './state.js';

export interface RunRow {
  id: BackendId;
  status: 'waiting' | 'running' | 'done' | 'unavailable' | 'unsupported' | 'error';
  phase?: string;
  reason?: string;
  device?: string;
  ms?: number;
  denseMs?: number;
  gflops?: number;
  speedup?: number;
  maxErr?: number;
}

export interface RunResult {
  rows: RunRow[];
  nnz: number;
  /** nnz is an upper bound (cluster: the selection depends on the data). */
  nnzBound: boolean;
  samples: number;
  sk: number;
}

/** Deterministic inputs, so a shared link reruns on the same numbers. */
function tensor(shape: number[], seed: number): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let x = 0; x < n; x++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    data[x] = (s >>> 0) / 2 ** 31 - 1;
  }
  return { data, shape };
}

const shapeOf = (p: RunState, heads: number, seq: number) => (p.layout === 'bhsd' ? [p.b, heads, seq, p.d] : [p.b, seq, heads, p.d]);

export function makeRequest(p: RunState, pattern: Pattern | Pattern[]): AttentionRequest {
  return {
    q: tensor(shapeOf(p, p.h, p.sq), 1),
    k: tensor(shapeOf(p, p.hkv, p.sk), 2),
    v: tensor(shapeOf(p, p.hkv, p.sk), 3),
    pattern,
    layout: p.layout,
  };
}

/** Allowed pairs of the whole call, from the compiled masks (top-k: min(k, candidates) per row). */
export function countNnz(p: RunState, pattern: Pattern | Pattern[]): { nnz: number; bound: boolean } {
  const heads = Array.isArray(pattern) ? pattern : Array.from({ length: p.h }, () => pattern);
  const memo = new Map<string, number>();
  let nnz = 0;
  let bound = false;
  for (const hp of heads) {
    const key = JSON.stringify(hp);
    let n = memo.get(key);
    if (n === undefined) {
      const { mask } = compile(hp, p.sq, p.sk, 64);
      if (hp.kind === 'topk') {
        n = 0;
        for (let i = 0; i < p.sq; i++) n += Math.min(hp.k, rowNnz(mask, i));
      } else n = mask.stats.nnz;
      if (hp.kind === 'cluster') bound = true;
      memo.set(key, n);
    }
    nnz += n * p.b;
  }
  return { nnz, bound };
}

const SAMPLES = 12;

function sampleRows(p: RunState) {
  return Array.from({ length: Math.min(SAMPLES, p.b * p.h * p.sq) }, (_, n) => ({
    b: n % p.b,
    h: (n * 7) % p.h,
    i: Math.min(p.sq - 1, Math.floor(((n + 0.5) / SAMPLES) * p.sq)),
  }));
}

function rowAt(p: RunState, out: Float32Array, b: number, h: number, i: number): Float32Array {
  const start = p.layout === 'bhsd' ? ((b * p.h + h) * p.sq + i) * p.d : ((b * p.sq + i) * p.h + h) * p.d;
  return out.subarray(start, start + p.d);
}

function message(e: unknown): string {
  return isSparseAttentionError(e) ? `${e.code}: ${e.message}` : String((e as Error)?.message ?? e);
}

/** Backends that have run a given call once already: the first call of each compiles kernels and is not timed. */
const warm = new Set<string>();

async function timed(id: BackendId, backend: { attention(r: AttentionRequest): Promise<{ out: HostTensor }> }, request: AttentionRequest, key: string) {
  if (id !== 'reference' && !warm.has(key)) {
    await backend.attention(request);
    warm.add(key);
  }
  const t0 = performance.now();
  const result = await backend.attention(request);
  return { result, ms: performance.now() - t0 };
}

/**
 * Runs the pattern on each chosen backend in turn: probe (its reason when unavailable), supports(), the timed
 * call, the same backend's dense call, and the error against core's float64 reference on sampled rows.
 */
export async function runAll(p: RunState, pattern: Pattern | Pattern[], onUpdate: (rows: RunRow[], done: number, total: number) => void): Promise<RunResult> {
  const rows: RunRow[] = p.backends.map((id) => ({ id, status: 'waiting' }));
  const total = rows.length * (p.dense ? 2 : 1) + 1;
  let done = 0;
  const tick = () =>
    onUpdate(
      rows.map((r) => ({ ...r })),
      done,
      total,
    );
  tick();
  const request = makeRequest(p, pattern);
  const { nnz, bound } = countNnz(p, pattern);
  const samples = sampleRows(p);
  // Plans the request once, so a bad shape is reported before any backend runs.
  const expected = referenceRows(request, samples);
  done++;
  tick();
  const dense: AttentionRequest = { ...request, pattern: { kind: 'dense' } };
  const shapeKey = JSON.stringify([p.b, p.h, p.hkv, p.sq, p.sk, p.d, p.layout]);
  for (const row of rows) {
    row.status = 'running';
    row.phase = 'probe';
    tick();
    try {
      const backend = await backendFor(row.id);
      const probe = await backend.probe();
      row.device = probe.device;
      if (!probe.available) {
        row.status = 'unavailable';
        row.reason = probe.reason ?? 'unavailable';
        done += p.dense ? 2 : 1;
        continue;
      }
      const ok = backend.supports(request);
      if (ok !== true) {
        row.status = 'unsupported';
        row.reason = ok;
        done += p.dense ? 2 : 1;
        continue;
      }
      row.phase = 'sparse';
      tick();
      const sparse = await timed(row.id, backend, request, `${row.id}|${shapeKey}|${JSON.stringify(pattern)}`);
      row.ms = sparse.ms;
      row.gflops = (4 * nnz * p.d) / (sparse.ms * 1e6);
      let maxErr = 0;
      samples.forEach((s, n) => {
        const got = rowAt(p, sparse.result.out.data, s.b, s.h, s.i);
        const want = expected[n]!.out;
        for (let x = 0; x < want.length; x++) {
          const e = Math.abs(got[x]! - want[x]!);
          if (Number.isNaN(got[x]!) !== Number.isNaN(want[x]!)) maxErr = Number.POSITIVE_INFINITY;
          else if (e > maxErr) maxErr = e;
        }
      });
      row.maxErr = maxErr;
      done++;
      tick();
      if (p.dense) {
        row.phase = 'dense';
        tick();
        const d = await timed(row.id, backend, dense, `${row.id}|${shapeKey}|dense`);
        row.denseMs = d.ms;
        row.speedup = d.ms / sparse.ms;
        done++;
      }
      row.status = 'done';
    } catch (e) {
      row.status = 'error';
      row.reason = message(e);
      if (isSparseAttentionError(e) && (e.code === 'DEVICE_LOST' || e.code === 'BACKEND_UNAVAILABLE' || e.code === 'INTERNAL')) forget(row.id);
      done = Math.min(total, done + 1);
    } finally {
      row.phase = undefined;
      tick();
    }
  }
  done = total;
  tick();
  return { rows, nnz, nnzBound: bound, samples: samples.length, sk: p.sk };
}
