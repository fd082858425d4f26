import { type AttentionPlan, type BlockMaskCache, type BlockMaskStats, SparseAttentionError, type TileOptions } from '@sparse/core';
import { type Chunk, type Geometry, geometry, planChunks, type TensorName } from './chunks.js';
import { chooseConfig, type DeviceLimits } from './limits.js';
import { type KernelTable, packTable } from './pack.js';
import { derived, type KernelConfig } from './wgsl/config.js';
import { LABELS_WG } from './wgsl/labels.js';
import { STATE_WORDS } from './wgsl/row-state.js';

/** Everything about a piece that does not depend on where its data lives. */
export interface Prepared {
  plan: AttentionPlan;
  /** The limits it was planned for. */
  limits: DeviceLimits;
  cfg: KernelConfig;
  table: KernelTable;
  geo: Record<TensorName, Geometry>;
  chunks: Chunk[];
  /** aux buffer (u32 words): top-k row state at stateOff (STATE_WORDS per row), cluster labels at labelOff. */
  auxWords: number;
  stateOff: number;
  labelOff: number;
  lseWords: number;
  /** Params slots (one per dispatch) each chunk needs. */
  slotsPerChunk: (c: Chunk) => number;
}

function limit(field: string, what: string, bytes: number, cap: number, name: string): void {
  if (bytes > cap)
    throw new SparseAttentionError('RESOURCE_LIMIT', `${field}: ${what} needs ${bytes} bytes, more than the device's ${name} (${cap} bytes)`, { field });
}

export function labelSlices(c: Chunk, limits: DeviceLimits): number {
  const tokens = c.r1 - c.r0 + (c.j1 - c.j0);
  return Math.ceil(tokens / (LABELS_WG * limits.maxComputeWorkgroupsPerDimension));
}

/**
 * Plans a validated piece for a device: kernel configuration, compiled masks and the kernels' table, and the
 * split into chunks. Every limit is checked here, before any GPU allocation; RESOURCE_LIMIT names the field.
 */
export function prepare(plan: AttentionPlan, limits: DeviceLimits, cache: BlockMaskCache, tiles: TileOptions): Prepared {
  const { batch: B, headsQ: Hq, headsKv: Hkv, seqQ: Sq, seqK: Sk, headDim: D, headDimV: Dv, layout } = plan;
  const needTopk = plan.patterns.some((p) => p.kind === 'topk');
  const cfg = chooseConfig(D, Dv, limits, tiles, needTopk);
  if (typeof cfg === 'string') throw new SparseAttentionError('RESOURCE_LIMIT', `q.shape[3]: ${cfg}`, { field: 'q.shape[3]' });
  const geo = {
    q: geometry(layout, B, Hq, Sq, D),
    k: geometry(layout, B, Hkv, Sk, D),
    v: geometry(layout, B, Hkv, Sk, Dv),
    o: geometry(layout, B, Hq, Sq, Dv),
  };
  for (const [t, g] of Object.entries(geo)) {
    if (g.total >= 2 ** 32)
      throw new SparseAttentionError('RESOURCE_LIMIT', `${t === 'o' ? 'out' : t}: ${g.total} elements exceed the 2^32 a WGSL u32 index can address`, {
        field: `${t === 'o' ? 'v' : t}.shape`,
      });
  }
  const rows = B * Hq * Sq;
  const stateWords = needTopk ? rows * STATE_WORDS : 0;
  const hasCluster = plan.patterns.some((p) => p.kind === 'cluster');
  const labelWords = hasCluster ? B * Hq * (Sq + Sk) : 0;
  const auxWords = Math.max(4, stateWords + labelWords);
  const maxBind = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  limit('q.shape', 'the top-k state and cluster labels', auxWords * 4, maxBind, 'maxStorageBufferBindingSize');
  limit('q.shape', 'lse', rows * 4, maxBind, 'maxStorageBufferBindingSize');
  const table = packTable(plan, cache, { blockQ: cfg.BQ, blockK: cfg.BK });
  limit('pattern', 'the compiled block masks', table.words.length * 4, maxBind, 'maxStorageBufferBindingSize');
  const chunks = planChunks({ plan, geo, headMasks: table.headMasks, blockQ: cfg.BQ, limits });
  const { NP } = derived(cfg);
  return {
    plan,
    limits,
    cfg,
    table,
    geo,
    chunks,
    auxWords,
    stateOff: 0,
    labelOff: stateWords,
    lseWords: rows,
    slotsPerChunk: (c) => 1 + (table.hasTopk ? NP + 1 : 0) + (table.hasCluster ? labelSlices(c, limits) : 0),
  };
}

/** Summary of the masks of a piece, for lastRun(). */
export function maskSummary(p: Prepared): BlockMaskStats[] {
  return p.table.masks.map((m) => m.stats);
}
