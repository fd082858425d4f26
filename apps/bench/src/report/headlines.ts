import type { CaseRecord, ScoredResult, TargetInfo } from '../types.js';
import { DECODE_HEADLINE, isDecode, makeDecodeCase } from '../workloads.js';
import { fmtBwRatio, fmtBytes, fmtGbps, fmtGflops, fmtMs, fmtNum, fmtRatio } from './format.js';

/** The headline figures of cpu-wasm, webgpu and tfjs against their goals, found in the records when this run has them. */

interface Find {
  pattern: string;
  seq: number;
  headDim?: number;
  headsQ?: number;
  headsKv?: number;
  window: number;
}

function findCase(records: CaseRecord[], f: Find): CaseRecord | undefined {
  return records.find(
    (r) =>
      r.case.pattern === f.pattern &&
      r.case.seq === f.seq &&
      r.case.window === f.window &&
      r.case.headDim === (f.headDim ?? 64) &&
      r.case.headsQ === (f.headsQ ?? 8) &&
      r.case.headsKv === (f.headsKv ?? f.headsQ ?? 8),
  );
}

const heads = (r: CaseRecord) => (r.case.headsQ === r.case.headsKv ? String(r.case.headsQ) : `${r.case.headsQ}:${r.case.headsKv}`);
const ok = (r: ScoredResult | undefined): r is ScoredResult => r?.status === 'ok' && r.timeMs !== undefined;
const goal = (pass: boolean | undefined, text: string) => `${text} ${pass === undefined ? '' : pass ? '— meets the goal' : '— below the goal'}`.trim();

function byPrefix(rec: CaseRecord | undefined, prefix: string): ScoredResult[] {
  return rec ? rec.results.filter((x) => x.target === prefix || x.target.startsWith(`${prefix}@`)) : [];
}

function status(rec: CaseRecord | undefined, prefix: string): string {
  const rs = byPrefix(rec, prefix);
  if (!rec) return 'case not in this run';
  if (!rs.length) return `${prefix} not in this run`;
  return rs.map((r) => `${r.target}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`).join('; ');
}

/**
 * The decode headline (1 new token after a kv cache of 32768, Hq = 32, Hkv = 8, D = 128, causal window 4096):
 * every target's time, GB/s and distance to the bandwidth limit, and our backends against each peer at the same
 * thread count. Empty when the run does not have that case.
 */
export function decodeHeadline(records: CaseRecord[]): string[] {
  const id = makeDecodeCase(DECODE_HEADLINE).id;
  const rec = records.find((r) => r.case.id === id);
  if (!rec) return [];
  const lines = [
    `**decode** — \`${id}\`: 1 new token, kv cache 32768, Hq = 32, Hkv = 8, D = 128, causal window 4096 (reads ${fmtBytes(rec.stats.requiredBytes)}):`,
  ];
  for (const x of rec.results) {
    if (x.status === 'unavailable') continue; // listed with its reason under Targets
    if (x.status !== 'ok' || x.timeMs === undefined) {
      lines.push(`- ${x.target}: ${x.status}${x.reason ? ` (${x.reason})` : ''}`);
      continue;
    }
    const bw = x.bandwidthRatio !== undefined ? `, ${fmtBwRatio(x.bandwidthRatio)} the bandwidth limit` : '';
    lines.push(`- ${x.target}: ${fmtMs(x.timeMs)}, ${fmtGbps(x.gbps)} GB/s${bw}`);
  }
  // Our backends against each peer (same threads where the peer takes them), in the same run.
  const isPeer = (label: string) => ['ort-gqa', 'ort-dense', 'tfjs-wasm-dense', 'plain-js'].includes(label.split('@')[0]!);
  for (const b of rec.results.filter((x) => ok(x) && !isPeer(x.target) && x.target !== 'reference@1t')) {
    const t = b.target.split('@')[1];
    const peers = rec.results.filter((p) => ok(p) && isPeer(p.target) && (p.target.endsWith('@1t') || p.target.endsWith(`@${t}`)));
    // A variant (cpu-wasm kv-cache@2t) is compared with its plain backend at the same threads too (host attention()).
    const [name, variant] = b.target.split('@')[0]!.split(' ');
    const plain = variant ? rec.results.find((p) => ok(p) && p.target === `${name}@${t}`) : undefined;
    const parts = [...(plain ? [plain] : []), ...peers]
      .filter((p) => !(p.target.startsWith('ort-') && t && p.target.split('@')[1] !== t))
      .map((p) => {
        const r = p.timeMs! / b.timeMs!;
        return r >= 1 ? `${fmtRatio(r)} faster than ${p.target}` : `${fmtRatio(1 / r)} slower than ${p.target}`;
      });
    if (parts.length) lines.push(`- ${b.target}: ${parts.join('; ')}`);
  }
  return lines;
}

export function headlines(records: CaseRecord[], targets: TargetInfo[]): string[] {
  const lines: string[] = [];
  const decode = decodeHeadline(records);
  if (decode.length) lines.push(...decode, '');
  // A decode-only run has none of the prefill headline cases: say nothing about them.
  if (records.every((r) => isDecode(r.case))) return lines.length ? lines.slice(0, -1) : lines;
  const w512 = findCase(records, { pattern: 'sliding', seq: 16384, window: 512 });
  const ref4 = 'sliding, B=1, H=8, N=16384, D=64, L=R=256';
  lines.push(`**cpu-wasm, sliding window** — ${ref4}:`);
  const cw = byPrefix(w512, 'cpu-wasm').filter(ok);
  if (!cw.length) lines.push(`- not measured: ${status(w512, 'cpu-wasm')}`);
  else {
    const one = cw.find((x) => x.target === 'cpu-wasm@1t');
    const peak = targets.find((t) => t.label === 'cpu-wasm@1t')?.extra?.simdPeakGflops as number | undefined;
    if (one && peak)
      lines.push(
        `- ${goal(one.gflops! / peak >= 0.5, `1 thread: ${fmtGflops(one.gflops)} GFLOP/s = ${fmtNum((100 * one.gflops!) / peak, 0)}% of the wasm SIMD128 peak ${fmtGflops(peak)} GFLOP/s (goal ≥ 50%)`)}`,
      );
    else if (one) lines.push(`- 1 thread: ${fmtGflops(one.gflops)} GFLOP/s (no SIMD peak: @sparse/cpu-wasm exports no measureSimdPeak())`);
    else {
      const anyPeak = targets.find((t) => t.name === 'cpu-wasm' && t.extra?.simdPeakGflops)?.extra?.simdPeakGflops as number | undefined;
      lines.push(
        `- 1 thread: not in this run (add \`--threads 1,${cw[0]!.target.split('@')[1]!.replace('t', '')}\`)${anyPeak ? `; wasm SIMD128 peak ${fmtGflops(anyPeak)} GFLOP/s` : ''}`,
      );
    }
    const most = cw[cw.length - 1]!;
    if (one && most !== one)
      lines.push(`- ${goal(one.timeMs! / most.timeMs! >= 1.8, `${most.target} vs 1 thread: ${fmtRatio(one.timeMs! / most.timeMs!)} (goal ≥ 1.8×)`)}`);
    for (const x of cw) {
      if (x.eta !== undefined) lines.push(`- ${goal(x.eta >= 0.8, `${x.target}: η = ${fmtNum(x.eta)} (goal ≥ 0.8)`)}`);
      const t = x.target.split('@')[1];
      for (const peer of [`ort-dense@${t}`, 'tfjs-wasm-dense@1t']) {
        const p = w512?.results.find((r) => r.target === peer);
        if (ok(p)) lines.push(`- ${goal(p.timeMs! / x.timeMs! >= 5, `${x.target} vs ${peer}: ${fmtRatio(p.timeMs! / x.timeMs!)} faster (goal ≥ 5×)`)}`);
      }
    }
  }
  const big = findCase(records, { pattern: 'sliding', seq: 65536, window: 512 });
  for (const x of byPrefix(big, 'cpu-wasm').filter(ok)) {
    const base = big!.stats.ioBytes + big!.stats.mask.bytes;
    const m = x.memory?.peakTargetBytes;
    if (m !== undefined)
      lines.push(
        `- ${goal(m <= 1.5 * base, `${x.target} at N=65536: peak memory held ${fmtBytes(m)} = ${fmtNum(m / base)}× inputs + outputs + block mask (${fmtBytes(base)}; goal ≤ 1.5×)`)}`,
      );
  }

  // The webgpu headline case; without H = 8 in this run, the same case at the heads it has (a software adapter runs H = 1).
  const wgCase = byPrefix(w512, 'webgpu').some(ok)
    ? w512
    : (records.find(
        (r) => r.case.pattern === 'sliding' && r.case.seq === 16384 && r.case.window === 512 && r.case.headDim === 64 && byPrefix(r, 'webgpu').some(ok),
      ) ?? w512);
  const wgRef = wgCase && wgCase !== w512 ? ref4.replace('H=8', `H=${heads(wgCase)}`) : ref4;
  lines.push('', `**webgpu, sliding window** — ${wgRef}:`);
  const wg = byPrefix(wgCase, 'webgpu').filter(ok);
  if (!wg.length) {
    const notices = targets.filter((t) => t.name === 'webgpu' && t.notice).map((t) => `${t.label}: ${t.notice}`);
    lines.push(`- not measured: ${status(wgCase, 'webgpu')}${notices.length ? ` [${notices.join('; ')}]` : ''}`);
  }
  for (const x of wg) {
    const info = targets.find((t) => t.label === x.target);
    const software = info?.extra?.softwareAdapter === true;
    if (software)
      lines.push(`- **${x.target}: ${info!.notice}** (${info!.device}). The goal (η ≥ 0.7) is for a real GPU; these figures are not judged against it.`);
    if (x.eta !== undefined) {
      const text = `${x.target}: η against its own dense WGSL kernel = ${fmtNum(x.eta)}`;
      lines.push(`- ${software ? `${text} (software adapter)` : goal(x.eta >= 0.7, `${text} (goal ≥ 0.7)`)}`);
    }
    for (const c of byPrefix(wgCase, 'cpu-wasm').filter(ok)) {
      const r = c.timeMs! / x.timeMs!;
      const how = r >= 1 ? `${fmtRatio(r)} faster` : `${fmtRatio(1 / r)} slower`;
      lines.push(
        `- ${x.target} time ${x.timeMs!.toFixed(1)} ms vs ${c.target} ${c.timeMs!.toFixed(1)} ms: webgpu ${how}${software ? ' (software adapter)' : ''}`,
      );
    }
  }

  lines.push('', '**tfjs, sliding window** — L=R=128 (w=256) against tf.js dense attention on the same tf.js backend (wasm):');
  for (const N of [4096, 16384, 32768]) {
    const rec = findCase(records, { pattern: 'sliding', seq: N, window: 256 });
    const t = byPrefix(rec, 'tfjs').find(ok);
    const d = rec?.results.find((r) => r.target.startsWith('tfjs-wasm-dense'));
    if (!t) {
      lines.push(`- N=${N}: not measured: ${status(rec, 'tfjs')}`);
      continue;
    }
    const parts = [`N=${N}: ${t.timeMs!.toFixed(1)} ms`];
    if (ok(d))
      parts.push(
        `${fmtRatio(d.timeMs! / t.timeMs!)} faster than tf.js dense (${d.timeMs!.toFixed(1)} ms${d.time?.extrapolated ? ', extrapolated from a slice' : ''})`,
      );
    if (t.memory?.tfPeakBytes !== undefined) parts.push(`tf.js peak ${fmtBytes(t.memory.tfPeakBytes)}`);
    if (ok(d) && d.memory?.tfPeakBytes !== undefined)
      parts.push(`dense tf.js peak ${fmtBytes(d.memory.tfPeakBytes)}${d.time?.extrapolated ? ` for ${d.time.rows} rows` : ''}`);
    parts.push(
      `full dense scores need ${fmtBytes(rec!.stats.denseScoreBytes)}${rec!.stats.denseScoreBytes > 4 * 2 ** 30 ? ' (more than the 4 GiB wasm32 address space: dense cannot run)' : ''}`,
    );
    lines.push(`- ${parts.join('; ')}`);
  }
  return lines;
}
