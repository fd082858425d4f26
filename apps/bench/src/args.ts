import { BACKEND_NAMES, PEER_NAMES } from './types.js';
import { isPatternName, PATTERN_NAMES, type PatternName } from './workloads.js';

export const USAGE = `usage: node apps/bench/dist/main.js [options]   (or: pnpm bench -- [options])

  --quick                 small sizes, few repetitions: finishes in about 2 minutes on 2 cores
  --backends a,b          library backends: ${BACKEND_NAMES.join(', ')} (default: all; 'none' for peers only);
                          peer names are accepted here too
  --peers a,b             peers: ${PEER_NAMES.join(', ')} (default: all; 'none')
  --patterns a,b          ${PATTERN_NAMES.join(', ')} (default: all)
  --n 1024,4096           sequence lengths N (default: quick 1024,4096; full 1024,4096,16384,65536)
  --d 64,128              head dims (default 64)
  --heads 8,32:8          query heads, or Hq:Hkv for GQA (default 8; the full sweep adds 16 and 32:8)
  --windows 256,512       attention windows w (default: quick 256; full 512, plus a window sweep)
  --threads 1,2           thread counts for multi-threaded targets (default: quick all cores; full 1 and all cores)
  --suite S               prefill, decode or all (default: all; with --quick, or with --n / --d / --heads /
                          --windows alone: prefill; with --decode-grid, --sq or --cache alone: decode).
                          decode: Sq new tokens after a kv cache, causal window local(w - 1, 0) bottom-right
                          aligned, GQA 32:8, plus short prefill (causal window w = 256 at N = 1024 and 2048);
                          with cpu-wasm, decode cases also run 'cpu-wasm kv-cache' (the cache resident in it)
  --decode-grid           the full decode grid: Sq 1, 16 × kv cache 4096 … 131072 × w 1024 … 8192 × D 64, 128
                          (default: a subset around decode/Sq1/kv32768/w4096/D128/H32:8)
  --sq 1,16               decode: new tokens per step; with --cache, --windows, --d and --heads (defaults 1,
  --cache 4096,32768      32768, 4096, 128, 32:8) their cross product replaces the decode preset
  --reps N                timed repetitions per run (default: quick 2, full 3..10 by time)
  --max-run SECONDS       skip a run estimated to take longer (default: quick 2, full 30)
  --out DIR               where the JSON, Markdown and SVG files go (default bench-results)
  --webgpu-software       create the webgpu target with { software: true }: without a GPU it runs on Chromium's
                          SwiftShader (a CPU rasteriser). Its label becomes webgpu@software and every figure of
                          it is marked "software adapter (SwiftShader) — not a GPU figure"
  --help                  this text

Giving --n, --d, --heads or --windows replaces the prefill preset by their cross product.`;

export const SUITES = ['prefill', 'decode', 'all'] as const;
export type Suite = (typeof SUITES)[number];

export interface CliOptions {
  quick: boolean;
  backends: string[] | null;
  peers: string[] | null;
  patterns: PatternName[] | null;
  n: number[] | null;
  d: number[] | null;
  heads: { q: number; kv: number }[] | null;
  windows: number[] | null;
  threads: number[] | null;
  reps: number | null;
  maxRunS: number | null;
  out: string;
  /** --webgpu-software: the webgpu target may fall back to a software adapter (SwiftShader); its figures are marked as such. */
  webgpuSoftware: boolean;
  /** --suite: null = chosen from the other options (see USAGE). */
  suite: Suite | null;
  /** --decode-grid: the full decode grid instead of the default subset. */
  decodeGrid: boolean;
  /** --sq / --cache: decode cross product (new tokens, kv cache lengths). */
  sq: number[] | null;
  cache: number[] | null;
  help: boolean;
}

export class UsageError extends Error {}

function list(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function ints(flag: string, v: string, min = 1): number[] {
  return list(v).map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag}: "${s}" is not an integer >= ${min}`);
    return n;
  });
}

export function parseArgs(argv: readonly string[]): CliOptions {
  const o: CliOptions = {
    quick: false,
    backends: null,
    peers: null,
    patterns: null,
    n: null,
    d: null,
    heads: null,
    windows: null,
    threads: null,
    reps: null,
    maxRunS: null,
    out: 'bench-results',
    webgpuSoftware: false,
    suite: null,
    decodeGrid: false,
    sq: null,
    cache: null,
    help: false,
  };
  const args = [...argv];
  while (args.length) {
    const raw = args.shift()!;
    if (raw === '--') continue;
    const [flag, inline] = raw.includes('=') ? [raw.slice(0, raw.indexOf('=')), raw.slice(raw.indexOf('=') + 1)] : [raw, undefined];
    const value = (): string => {
      const v = inline ?? args.shift();
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--quick':
        o.quick = true;
        break;
      case '--webgpu-software':
        if (inline !== undefined) throw new UsageError('--webgpu-software takes no value');
        o.webgpuSoftware = true;
        break;
      case '--decode-grid':
        if (inline !== undefined) throw new UsageError('--decode-grid takes no value');
        o.decodeGrid = true;
        break;
      case '--suite': {
        const v = value();
        if (!(SUITES as readonly string[]).includes(v)) throw new UsageError(`--suite: "${v}" is not one of ${SUITES.join(', ')}`);
        o.suite = v as Suite;
        break;
      }
      case '--sq':
        o.sq = ints(flag, value());
        break;
      case '--cache':
        o.cache = ints(flag, value());
        break;
      case '--help':
      case '-h':
        o.help = true;
        break;
      case '--backends':
      case '--peers': {
        const names = list(value());
        const all: readonly string[] = [...BACKEND_NAMES, ...PEER_NAMES];
        for (const n of names) if (n !== 'none' && !all.includes(n)) throw new UsageError(`${flag}: unknown target "${n}" (known: ${all.join(', ')})`);
        const picked = names.filter((n) => n !== 'none');
        const backends = picked.filter((n) => (BACKEND_NAMES as readonly string[]).includes(n));
        const peers = picked.filter((n) => (PEER_NAMES as readonly string[]).includes(n));
        if (flag === '--backends') {
          o.backends = backends;
          if (peers.length) o.peers = [...(o.peers ?? []), ...peers];
        } else {
          o.peers = [...(o.peers ?? []), ...peers];
          if (backends.length) o.backends = [...(o.backends ?? []), ...backends];
        }
        break;
      }
      case '--patterns': {
        const names = list(value());
        for (const n of names) if (!isPatternName(n)) throw new UsageError(`--patterns: unknown pattern "${n}" (known: ${PATTERN_NAMES.join(', ')})`);
        o.patterns = names as PatternName[];
        break;
      }
      case '--n':
        o.n = ints(flag, value(), 16);
        break;
      case '--d':
        o.d = ints(flag, value());
        break;
      case '--windows':
        o.windows = ints(flag, value(), 2);
        break;
      case '--threads':
        o.threads = ints(flag, value());
        break;
      case '--heads':
        o.heads = list(value()).map((s) => {
          const [q, kv = q] = s.split(':').map(Number);
          if (!Number.isInteger(q) || !Number.isInteger(kv) || q! < 1 || kv! < 1 || q! % kv! !== 0)
            throw new UsageError(`--heads: "${s}" must be Hq or Hq:Hkv with Hkv dividing Hq`);
          return { q: q!, kv: kv! };
        });
        break;
      case '--reps':
        o.reps = ints(flag, value())[0]!;
        break;
      case '--max-run': {
        const s = Number(value());
        if (!(s > 0)) throw new UsageError('--max-run: must be a positive number of seconds');
        o.maxRunS = s;
        break;
      }
      case '--out':
        o.out = value();
        break;
      default:
        throw new UsageError(`unknown option ${raw}`);
    }
  }
  return o;
}
