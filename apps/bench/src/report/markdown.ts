import type { MachineInfo } from '../machine.js';
import type { CaseRecord, ScoredResult, TargetInfo } from '../types.js';
import { isDecode, PATTERN_NAMES, seqQ } from '../workloads.js';
import { isBackendLabel } from './charts.js';
import { fmtBwRatio, fmtBytes, fmtCount, fmtGbps, fmtGflops, fmtMs, fmtNum, fmtPct, fmtRatio } from './format.js';
import { headlines } from './headlines.js';

export interface ReportInput {
  title: string;
  startedAt: string;
  durationS: number;
  command: string;
  quick: boolean;
  sweep: string[];
  machine: MachineInfo;
  targets: TargetInfo[];
  records: CaseRecord[];
  /** Chart files (relative to the Markdown file) and their titles. */
  charts: { file: string; title: string }[];
  jsonFile: string;
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function table(head: string[], rows: string[][], align?: ('l' | 'r')[]): string[] {
  const sep = head.map((_, i) => (align?.[i] === 'r' ? '---:' : '---'));
  return [`| ${head.join(' | ')} |`, `| ${sep.join(' | ')} |`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];
}

function heads(r: CaseRecord): string {
  return r.case.headsQ === r.case.headsKv ? String(r.case.headsQ) : `${r.case.headsQ}:${r.case.headsKv}`;
}

function checkText(x: ScoredResult): string {
  if (!x.check) return '—';
  return x.check.ok ? `ok (${x.check.maxAbsErr.toExponential(0)})` : `**FAIL** ${x.check.maxAbsErr.toExponential(1)}`;
}

function memText(x: ScoredResult): string {
  const m = x.memory;
  if (!m) return '—';
  const tf = m.tfPeakBytes !== undefined ? ` (tf ${fmtBytes(m.tfPeakBytes)})` : '';
  return `${fmtBytes(m.peakTargetBytes)}${tf}`;
}

function resultRow(r: CaseRecord, x: ScoredResult): string[] {
  const lead = [String(r.case.seq), String(r.case.headDim), heads(r), String(r.case.window), x.target];
  const extra = x.notes ?? [];
  if (x.status === 'unavailable') return [...lead, '*unavailable*', '', '', '', '', '', '', ['see Targets', ...extra].join('; ')];
  if (x.status !== 'ok') return [...lead, `*${x.status}*`, '', '', '', '', '', '', [x.reason ?? '', ...extra].filter(Boolean).join('; ')];
  const t = x.time!;
  const time = `${fmtMs(x.timeMs)}${t.extrapolated ? `*` : ''}`;
  const dense = x.dense ? `${fmtMs(x.dense.fullMs)}${x.dense.extrapolated ? '*' : ''}` : x.speedupBase && x.speedupBase !== 'self' ? `(${x.speedupBase})` : '—';
  const notes = [
    t.warmupOnly ? 'a single run, warm-up included (it exceeds --max-run)' : '',
    t.extrapolated ? `${t.rows}/${r.case.seq} rows` : '',
    x.dense?.extrapolated ? `dense ${x.dense.rows}/${r.case.seq} rows` : '',
    x.denseStatus ? `dense ${x.denseStatus.status}: ${x.denseStatus.reason}` : '',
    ...(x.notes ?? []),
  ]
    .filter(Boolean)
    .join('; ');
  return [...lead, time, fmtGflops(x.gflops), dense, fmtRatio(x.speedup), fmtNum(x.eta), memText(x), checkText(x), notes];
}

/** For each library backend result: how many times faster than each peer in the same case (same threads where it has them). */
function ratioRows(records: CaseRecord[]): { head: string[]; rows: string[][] } {
  const peers = [...new Set(records.flatMap((r) => r.results.filter((x) => !isBackendLabel(x.target)).map((x) => x.target.split('@')[0]!)))];
  // A variant (`cpu-wasm kv-cache@2t`) is also set against its plain backend at the same threads (host attention()).
  const variantOf = (label: string) => label.split('@')[0]!.split(' ')[1] && label.split(' ')[0]!;
  const bases = [...new Set(records.flatMap((r) => r.results.map((x) => variantOf(x.target)).filter((b): b is string => !!b)))];
  const rows: string[][] = [];
  for (const r of records)
    for (const x of r.results) {
      if (!isBackendLabel(x.target) || x.status !== 'ok' || x.timeMs === undefined) continue;
      const threads = x.target.split('@')[1];
      const base = bases.map((b) => {
        const plain = variantOf(x.target) === b ? r.results.find((y) => y.target === `${b}@${threads}`) : undefined;
        return plain?.status === 'ok' && plain.timeMs !== undefined ? fmtRatio(plain.timeMs / x.timeMs!) : '—';
      });
      const cells = peers.map((p) => {
        const same = r.results.find((y) => y.target === `${p}@${threads}`) ?? r.results.find((y) => y.target.split('@')[0] === p);
        return same?.status === 'ok' && same.timeMs !== undefined
          ? `${fmtRatio(same.timeMs / x.timeMs!)}${same.target !== `${p}@${threads}` ? ` (${same.target})` : ''}`
          : '—';
      });
      rows.push([r.case.id, x.target, fmtMs(x.timeMs), ...base, ...cells]);
    }
  return { head: ['case', 'backend', 'time', ...bases.map((b) => `vs ${b} (host attention())`), ...peers.map((p) => `vs ${p}`)], rows };
}

function decodeRow(r: CaseRecord, x: ScoredResult): string[] {
  const lead = [r.case.id, x.target];
  const extra = x.notes ?? [];
  if (x.status === 'unavailable') return [...lead, '*unavailable*', '', '', '', '', '', ['see Targets', ...extra].join('; ')];
  if (x.status !== 'ok') return [...lead, `*${x.status}*`, '', '', '', '', '', [x.reason ?? '', ...extra].filter(Boolean).join('; ')];
  const notes = [x.time?.warmupOnly ? 'a single run, warm-up included (it exceeds --max-run)' : '', ...extra].filter(Boolean).join('; ');
  return [
    ...lead,
    `${fmtMs(x.timeMs)}${x.time?.extrapolated ? '*' : ''}`,
    fmtGflops(x.gflops),
    fmtGbps(x.gbps),
    fmtBwRatio(x.bandwidthRatio),
    memText(x),
    checkText(x),
    notes,
  ];
}

/** The decode cases: what they read, and every target's time, GFLOP/s, GB/s and distance to the bandwidth limit. */
function decodeSection(o: ReportInput, rs: CaseRecord[]): string[] {
  const bw = o.machine.memoryBandwidth;
  const L: string[] = ['## Decode', ''];
  L.push(
    'Sq new tokens at the end of a kv cache (Sk = cache + Sq), causal sliding window of w keys including the token’s own: `local(w − 1, 0)` bottom-right aligned (queryOffset = Sk − Sq). ' +
      '**GB/s** = bytes the pattern requires moving (the K and V rows of the keys any new token attends — min(Sk, w + Sq − 1) per kv head — for every kv head, plus q and out; float32) / time. ' +
      (bw
        ? `**× limit** = time / (those bytes ÷ ${fmtGbps(bw.limitGBps)} GB/s, the memory bandwidth measured on this machine): ≈ 1× is at the bandwidth limit.`
        : '**× limit** needs the machine’s measured bandwidth, which this run does not have.'),
    '',
  );
  L.push(
    ...table(
      ['case', 'Sq', 'kv cache', 'w', 'D', 'H', 'keys read', 'bytes required'],
      rs.map((r) => [
        r.case.id,
        String(seqQ(r.case)),
        String(r.case.seq - seqQ(r.case)),
        String(r.case.window),
        String(r.case.headDim),
        heads(r),
        String(r.stats.keysRead),
        fmtBytes(r.stats.requiredBytes),
      ]),
    ),
    '',
  );
  L.push(
    ...table(
      ['case', 'target', 'time', 'GFLOP/s', 'GB/s', '× limit', 'peak mem', 'check', 'notes'],
      rs.flatMap((r) => r.results.map((x) => decodeRow(r, x))),
      ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'l', 'l'],
    ),
    '',
  );
  const ratios = ratioRows(rs);
  if (ratios.rows.length)
    L.push(
      'Peer time / backend time per decode step, measured side by side in this run (> 1×: the backend is faster); a variant such as `cpu-wasm kv-cache` is also set against its plain backend’s host `attention()` at the same threads:',
      '',
      ...table(ratios.head, ratios.rows),
      '',
    );
  return L;
}

export function markdownReport(o: ReportInput): string {
  const m = o.machine;
  const L: string[] = [];
  L.push(`# ${o.title}`, '');
  L.push(
    `Run ${o.startedAt} in ${o.durationS.toFixed(0)} s (${o.quick ? '`--quick`: small sizes, few repetitions' : 'full sweep'}) with \`${o.command}\`. All figures: \`${o.jsonFile}\`.`,
    '',
  );
  const load = Math.max(m.loadAverageStart, m.loadAverageEnd ?? 0);
  if (load > m.availableParallelism * 0.75)
    L.push(
      `> **The machine was busy** (1-minute load average ${fmtNum(m.loadAverageStart)} → ${fmtNum(m.loadAverageEnd)} on ${m.availableParallelism} cores): other processes shared the CPUs, so absolute times, thread scaling and the ratios between targets measured at different moments are noisy. Rerun on an idle machine before quoting them.`,
      '',
    );
  L.push('## Machine', '');
  L.push(
    ...table(
      ['CPU', 'cores', 'memory', 'Node', 'OS', 'load average (start → end)'],
      [
        [
          m.cpuModel,
          `${m.logicalCores} logical (${m.availableParallelism} available)`,
          fmtBytes(m.memoryBytes),
          `${m.node} (V8 ${m.v8})`,
          `${m.os} ${m.arch}`,
          `${fmtNum(m.loadAverageStart)} → ${fmtNum(m.loadAverageEnd)}`,
        ],
      ],
    ),
    '',
  );
  if (m.memoryBandwidth)
    L.push(
      `Memory bandwidth: copy ${fmtGbps(m.memoryBandwidth.copyGBps)} GB/s, read ${fmtGbps(m.memoryBandwidth.readGBps)} GB/s; the limit the GB/s figures are compared with: **${fmtGbps(m.memoryBandwidth.limitGBps)} GB/s** (${m.memoryBandwidth.method}).`,
      '',
    );
  L.push('## Targets', '');
  L.push(
    ...table(
      ['target', 'kind', 'status', 'threads', 'runs on', 'what'],
      o.targets.map((t) => [
        t.label,
        t.kind === 'backend' ? 'library backend' : 'peer',
        `${t.available ? 'measured' : `**not available**: ${t.reason ?? ''}`}${t.notice ? ` — **${t.notice}**` : ''}`,
        t.threads === null ? '—' : String(t.threads),
        [t.device ?? '', t.version ?? '', t.extra?.simdPeakGflops ? `wasm SIMD128 peak ${fmtGflops(t.extra.simdPeakGflops as number)} GFLOP/s` : '']
          .filter(Boolean)
          .join('; '),
        t.description,
      ]),
    ),
    '',
  );
  L.push('Sweep:', ...o.sweep.map((s) => `- ${s}`), '');
  L.push(
    '## How to read',
    '',
    '- **time**: median wall time of one call (B = 1) over the repetitions after warm-up. `*` = extrapolated, because the full dense problem would not fit the time or memory budget: timed on the last r query rows (keys: all N) and on r/2 rows, and extended to N by the fitted fixed cost + per-row cost (proportional scaling where the two timings do not fit that model); the JSON keeps both timings.',
    '- **GFLOP/s**: effective, 4 · nnz · D / time, nnz = allowed (query, key) pairs × heads (from core’s compileBlockMask; top-k: k per row; cluster: same-cluster pairs). Dense peers do N² work for the same nnz, so their effective GFLOP/s is low by design.',
    '- **GB/s**: effective, bytes the pattern requires moving / time: the K and V rows of every key some query row may attend (per kv head; top-k / cluster: their candidates), plus q and out, float32. **×bw** (× limit) = time / (those bytes ÷ the machine’s measured memory bandwidth): 1× is at the bandwidth limit. It matters for decode, where a step reads each window row once.',
    '- **density** = nnz / (H · N²). **speedup** = the same backend’s dense kernel (pattern `dense`, same threads) time / sparse time. **η** = speedup × density (1 = the sparse kernel is exactly as efficient per useful pair as the dense one).',
    '- **peak mem**: what the target itself holds at its peak: the highest RSS of its process during the timed runs (sampled every ~1 ms by a worker thread) minus the RSS after loading it (before any case) minus the caller’s q/k/v arrays. It includes the target’s copies of the inputs, outputs, masks, scratch and pools kept from earlier (smaller) cases; each target runs in its own process. The JSON also has the growth during the runs alone. tf.js targets also show `tf.profile` peak bytes. GPU memory is not included.',
    '- **check**: the output of sampled rows against core’s float64 reference (|err| ≤ 1e-4 + 1e-3·|ref|), max abs error in brackets.',
    '- Peers: onnxruntime’s GroupQueryAttention supports only causal sliding windows (n/a elsewhere); for top-k and cluster the dense peers get the mask precomputed outside the timed region. tf.js’s wasm backend has no multithread support in Node, so its targets run on 1 thread.',
    '',
  );
  L.push('## Headline figures', '', ...headlines(o.records, o.targets), '');
  if (o.charts.length) {
    L.push('## Charts', '');
    for (const c of o.charts) L.push(`![${c.title}](${c.file})`, '');
  }
  if (o.records.some((r) => !isDecode(r.case))) L.push('## Results by pattern', '');
  for (const p of PATTERN_NAMES) {
    const rs = o.records.filter((r) => r.case.pattern === p && !isDecode(r.case));
    if (!rs.length) continue;
    L.push(`### ${p}`, '', `${rs[0]!.description}.`, '');
    L.push(
      ...table(
        ['N', 'D', 'H', 'w', 'nnz', 'density'],
        rs.map((r) => [
          String(r.case.seq),
          String(r.case.headDim),
          heads(r),
          String(r.case.window),
          `${fmtCount(r.stats.nnz)}${r.stats.exact ? '' : ' (est.)'}`,
          `${fmtPct(r.stats.density)}${r.stats.candidateNnz !== r.stats.nnz ? ` (candidates ${fmtPct(r.stats.candidateDensity)})` : ''}`,
        ]),
      ),
      '',
    );
    L.push(
      ...table(
        ['N', 'D', 'H', 'w', 'target', 'time', 'GFLOP/s', 'dense', 'speedup', 'η', 'peak mem', 'check', 'notes'],
        rs.flatMap((r) => r.results.map((x) => resultRow(r, x))),
        ['r', 'r', 'r', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'l'],
      ),
      '',
    );
  }
  const decode = o.records.filter((r) => isDecode(r.case));
  if (decode.length) L.push(...decodeSection(o, decode));
  const ratios = ratioRows(o.records.filter((r) => !isDecode(r.case)));
  if (ratios.rows.length) {
    L.push(
      '## Library backends against the peers',
      '',
      'Peer time / backend time in the same case (> 1×: the backend is faster); same thread count where the peer has one.',
      '',
    );
    L.push(...table(ratios.head, ratios.rows), '');
  }
  return `${L.join('\n')}\n`;
}
