import type { Field } from './fields.js';
import {
  atrous,
  bigBird,
  documents,
  fromHfLongformerWindow,
  longformer,
  type Pattern,
  prefixLM,
  SparseAttentionError,
  slidingWindowCausal,
  sparseTransformerFixed,
  sparseTransformerStrided,
} from './sparse.js';

/** Sizes a preset may need (Sparse Transformer "fixed" lists its summary columns, cluster centroids have D entries). */
export interface BuildContext {
  sq: number;
  sk: number;
  d: number;
}

type Values = Record<string, unknown>;

export interface Preset {
  id: string;
  label: string;
  group: 'Pattern kinds' | 'Published patterns';
  /** One sentence under the form. */
  note: string;
  fields: Field[];
  defaults: Record<string, string>;
  build(v: Values, ctx: BuildContext): Pattern;
  /** Form values for a pattern of this preset's shape, or null: how JSON edits find their way back to the fields. */
  fromPattern?(p: Record<string, unknown>): Record<string, string> | null;
  /** Picture size this preset is best seen at. */
  view?: { sq: number; sk: number };
}

const int = (name: string, label: string, hint?: string): Field => ({ name, label, kind: 'int', ...(hint ? { hint } : {}) });
const opt = (name: string, label: string): Field => ({ name, label, kind: 'optInt', hint: 'empty = unbounded' });
const ints = (name: string, label: string, hint = 'comma-separated'): Field => ({ name, label, kind: 'ints', hint });
const json = (name: string, label: string, hint: string): Field => ({ name, label, kind: 'json', hint });
const bool = (name: string, label: string): Field => ({ name, label, kind: 'bool' });

/** Copies the keys that are set, so an omitted side stays omitted (unbounded) in the JSON. */
function defined(v: Values, keys: string[]): Values {
  const out: Values = {};
  for (const k of keys) if (v[k] !== undefined) out[k] = v[k];
  return out;
}

/** fromPattern for a kind whose JSON keys are its fields. */
function sameKeys(kind: string, keys: string[], list: string[] = []) {
  return (p: Record<string, unknown>): Record<string, string> | null => {
    if (p.kind !== kind || Object.keys(p).some((k) => k !== 'kind' && !keys.includes(k))) return null;
    const out: Record<string, string> = {};
    for (const k of keys) {
      const x = p[k];
      if (x === undefined) out[k] = '';
      else if (list.includes(k) && Array.isArray(x)) out[k] = x.join(', ');
      else if (typeof x === 'object') out[k] = JSON.stringify(x);
      else out[k] = String(x);
    }
    return out;
  };
}

/** Centroids for the cluster preset: `clusters` rows of D numbers from a small seeded generator. */
function centroids(clusters: number, seed: number, d: number): number[][] {
  if (!Number.isInteger(clusters) || clusters < 1 || clusters > 64)
    throw new SparseAttentionError('INVALID_PATTERN', `clusters: must be an integer in [1, 64] (got ${clusters})`, { field: 'clusters' });
  let s = (seed | 0) ^ 0x9e3779b9;
  const next = () => {
    s = Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) ^ Math.imul(s ^ (s >>> 12), 0x297a2d39);
    return ((s >>> 0) / 2 ** 32) * 2 - 1;
  };
  return Array.from({ length: clusters }, () => Array.from({ length: d }, () => Math.round(next() * 100) / 100));
}

export const PRESETS: Preset[] = [
  {
    id: 'dense',
    label: 'dense',
    group: 'Pattern kinds',
    note: 'Every key: full attention, the baseline.',
    fields: [],
    defaults: {},
    build: () => ({ kind: 'dense' }),
    fromPattern: sameKeys('dense', []),
  },
  {
    id: 'causal',
    label: 'causal',
    group: 'Pattern kinds',
    note: 'δ = p − j ≥ 0.',
    fields: [],
    defaults: {},
    build: () => ({ kind: 'causal' }),
    fromPattern: sameKeys('causal', []),
  },
  {
    id: 'local',
    label: 'local window',
    group: 'Pattern kinds',
    note: '−right ≤ δ ≤ left: width left + 1 + right.',
    fields: [opt('left', 'left'), opt('right', 'right')],
    defaults: { left: '8', right: '8' },
    build: (v) => ({ kind: 'local', ...defined(v, ['left', 'right']) }) as Pattern,
    fromPattern: sameKeys('local', ['left', 'right']),
  },
  {
    id: 'dilated',
    label: 'dilated (atrous)',
    group: 'Pattern kinds',
    note: 'δ mod dilation = 0, sides count steps: left 4, dilation 3 reaches δ = 12.',
    fields: [int('dilation', 'dilation'), opt('left', 'left (steps)'), opt('right', 'right (steps)')],
    defaults: { dilation: '2', left: '8', right: '8' },
    build: (v) => ({ kind: 'dilated', ...defined(v, ['dilation', 'left', 'right']) }) as Pattern,
    fromPattern: sameKeys('dilated', ['dilation', 'left', 'right']),
  },
  {
    id: 'blockLocal',
    label: 'block-local',
    group: 'Pattern kinds',
    note: '−right ≤ ⌊p/block⌋ − ⌊j/block⌋ ≤ left: BigBird’s sliding blocks.',
    fields: [int('block', 'block'), opt('left', 'left (blocks)'), opt('right', 'right (blocks)')],
    defaults: { block: '16', left: '1', right: '1' },
    build: (v) => ({ kind: 'blockLocal', ...defined(v, ['block', 'left', 'right']) }) as Pattern,
    fromPattern: sameKeys('blockLocal', ['block', 'left', 'right']),
  },
  {
    id: 'neighborhood',
    label: 'neighborhood (NATTEN)',
    group: 'Pattern kinds',
    note: 'NATTEN 1-d: kernel keys in the query’s dilation group, shifted inside it at the edges; needs Sq = Sk.',
    fields: [int('kernel', 'kernel'), opt('dilation', 'dilation'), bool('causal', 'causal')],
    defaults: { kernel: '7', dilation: '2', causal: 'false' },
    build: (v) => ({ kind: 'neighborhood', kernel: v.kernel, ...defined(v, ['dilation']), ...(v.causal ? { causal: true } : {}) }) as Pattern,
    fromPattern: sameKeys('neighborhood', ['kernel', 'dilation', 'causal']),
  },
  {
    id: 'global',
    label: 'global tokens',
    group: 'Pattern kinds',
    note: 'Tokens are positions: query p and key j are global when listed.',
    fields: [ints('tokens', 'tokens')],
    defaults: { tokens: '0, 1' },
    build: (v) => ({ kind: 'global', tokens: v.tokens }) as Pattern,
    fromPattern: sameKeys('global', ['tokens'], ['tokens']),
  },
  {
    id: 'globalQK',
    label: 'global queries / keys',
    group: 'Pattern kinds',
    note: 'Query indices i and key indices j, separately (prefix-LM, summary columns).',
    fields: [ints('queries', 'queries'), ints('keys', 'keys')],
    defaults: { queries: '0', keys: '0, 1, 2, 3' },
    build: (v) => ({ kind: 'global', queries: v.queries, keys: v.keys }) as Pattern,
    fromPattern: sameKeys('global', ['queries', 'keys'], ['queries', 'keys']),
  },
  {
    id: 'documentsOffsets',
    label: 'packed documents (offsets)',
    group: 'Pattern kinds',
    note: 'cu_seqlens: p and j in the same document; past the last offset is padding.',
    fields: [ints('offsets', 'offsets', 'cu_seqlens, from 0')],
    defaults: { offsets: '0, 64, 160, 224' },
    build: (v) => ({ kind: 'documents', offsets: v.offsets }) as Pattern,
    fromPattern: sameKeys('documents', ['offsets'], ['offsets']),
  },
  {
    id: 'randomBlocks',
    label: 'random blocks',
    group: 'Pattern kinds',
    note: 'Per query block, perRow key blocks drawn by core’s PRNG (identical on every platform).',
    fields: [int('block', 'block'), int('perRow', 'perRow'), int('seed', 'seed')],
    defaults: { block: '16', perRow: '2', seed: '0' },
    build: (v) => ({ kind: 'randomBlocks', block: v.block, perRow: v.perRow, seed: v.seed }) as Pattern,
    fromPattern: sameKeys('randomBlocks', ['block', 'perRow', 'seed']),
  },
  {
    id: 'topk',
    label: 'top-k',
    group: 'Pattern kinds',
    note: 'Content-based: the k best-scoring keys among within’s. The picture shows within’s candidates.',
    fields: [int('k', 'k'), json('within', 'within', 'a static pattern, JSON; empty = dense')],
    defaults: { k: '8', within: '{"kind":"local","left":32,"right":32}' },
    build: (v) => ({ kind: 'topk', k: v.k, ...defined(v, ['within']) }) as Pattern,
    fromPattern: sameKeys('topk', ['k', 'within']),
  },
  {
    id: 'cluster',
    label: 'cluster routing',
    group: 'Pattern kinds',
    note: 'Content-based: keys in the query’s cluster among within’s (D-wide centroids from a seed). The picture shows within’s candidates.',
    fields: [int('clusters', 'clusters'), int('seed', 'seed'), json('within', 'within', 'a static pattern, JSON; empty = dense')],
    defaults: { clusters: '4', seed: '1', within: '{"kind":"causal"}' },
    build: (v, ctx) => ({ kind: 'cluster', centroids: centroids(Number(v.clusters), Number(v.seed), ctx.d), ...defined(v, ['within']) }) as Pattern,
  },
  {
    id: 'atrousExample',
    label: 'atrous k = 2 on [A…E]',
    group: 'Published patterns',
    note: 'Distances 0, k, 2k, …: A attends A, C and E (not B and D, as a worked example often given says; docs/patterns.md).',
    fields: [int('k', 'k')],
    defaults: { k: '2' },
    build: (v) => atrous(v.k as number),
    view: { sq: 5, sk: 5 },
  },
  {
    id: 'longformer',
    label: 'Longformer',
    group: 'Published patterns',
    note: 'Sliding window of attentionWindow keys in all (w/2 per side, HF’s convention), optional dilated window, symmetric global tokens.',
    fields: [int('attentionWindow', 'attentionWindow', 'even'), ints('globalTokens', 'globalTokens'), opt('dilation', 'dilation')],
    defaults: { attentionWindow: '32', globalTokens: '0', dilation: '' },
    build: (v) => longformer(defined(v, ['attentionWindow', 'globalTokens', 'dilation']) as Parameters<typeof longformer>[0]),
  },
  {
    id: 'bigBird',
    label: 'BigBird (ITC)',
    group: 'Published patterns',
    note: 'Block-aligned window, global first (and last) block, random key blocks per query block.',
    fields: [
      int('block', 'block'),
      int('windowBlocks', 'windowBlocks', 'odd'),
      int('randomPerRow', 'randomPerRow'),
      int('seed', 'seed'),
      opt('seqLen', 'seqLen'),
    ],
    defaults: { block: '16', windowBlocks: '3', randomPerRow: '2', seed: '0', seqLen: '256' },
    build: (v) => bigBird(defined(v, ['block', 'windowBlocks', 'randomPerRow', 'seed', 'seqLen']) as Parameters<typeof bigBird>[0]),
  },
  {
    id: 'stStrided',
    label: 'Sparse Transformer, strided',
    group: 'Published patterns',
    note: 'Causal: the previous stride keys and every stride-th key.',
    fields: [int('stride', 'stride')],
    defaults: { stride: '16' },
    build: (v) => sparseTransformerStrided(v.stride as number),
  },
  {
    id: 'stFixed',
    label: 'Sparse Transformer, fixed',
    group: 'Published patterns',
    note: 'Causal: the query’s own block of stride tokens plus the last summary positions of every block.',
    fields: [int('stride', 'stride'), int('summary', 'summary'), int('seqLen', 'seqLen')],
    defaults: { stride: '32', summary: '4', seqLen: '256' },
    build: (v) => sparseTransformerFixed(v.stride as number, v.summary as number, v.seqLen as number),
  },
  {
    id: 'slidingWindow',
    label: 'causal sliding window',
    group: 'Published patterns',
    note: 'The query and the window − 1 keys before it (Mistral, Qwen2).',
    fields: [int('window', 'window')],
    defaults: { window: '32' },
    build: (v) => slidingWindowCausal(v.window as number),
  },
  {
    id: 'prefixLM',
    label: 'prefix-LM',
    group: 'Published patterns',
    note: 'The first prefix keys are seen by every query, causal after it.',
    fields: [int('prefix', 'prefix')],
    defaults: { prefix: '32' },
    build: (v) => prefixLM(v.prefix as number),
  },
  {
    id: 'documents',
    label: 'packed documents (lengths)',
    group: 'Published patterns',
    note: 'Consecutive documents of these lengths, optionally causal inside; tokens after them are padding.',
    fields: [ints('lengths', 'lengths'), bool('causal', 'causal')],
    defaults: { lengths: '64, 96, 48', causal: 'true' },
    build: (v) => documents(v.lengths as number[], { causal: v.causal === true }),
  },
  {
    id: 'hfLongformer',
    label: 'HF LongformerConfig window',
    group: 'Published patterns',
    note: 'HF’s attention_window is the total window (even): w/2 keys per side.',
    fields: [int('attention_window', 'attention_window', 'even')],
    defaults: { attention_window: '64' },
    build: (v) => fromHfLongformerWindow(v.attention_window as number),
  },
  {
    id: 'custom',
    label: 'custom JSON (union, intersect, not, explicit, …)',
    group: 'Published patterns',
    note: 'Any pattern as JSON: compose kinds with union / intersect / not.',
    fields: [],
    defaults: {},
    build: () => ({
      kind: 'union',
      of: [
        { kind: 'local', left: 4, right: 4 },
        { kind: 'global', tokens: [0] },
      ],
    }),
  },
];

export const presetById = (id: string): Preset => PRESETS.find((p) => p.id === id) ?? PRESETS[PRESETS.length - 1]!;
