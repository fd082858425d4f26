import type { Backend } from '@sparse/core';
import { listCases, loadCase } from './cases.js';
import type { CaseOutcome } from './compare.js';
import { type RunOptions, runCase } from './run.js';

export interface ConformanceReport {
  backend: string;
  device?: string;
  available: boolean;
  reason?: string;
  outcomes: CaseOutcome[];
  passed: number;
  failed: number;
  skipped: number;
}

/** Runs every (filtered) golden case on a backend. An unavailable backend fails every case with its reason. */
export async function runConformance(
  backend: Backend,
  options: RunOptions & { filter?: string; dir?: string; onCase?: (o: CaseOutcome, index: number, total: number) => void } = {},
): Promise<ConformanceReport> {
  const manifests = listCases({ dir: options.dir, filter: options.filter });
  const probe = await backend.probe();
  const outcomes: CaseOutcome[] = [];
  for (const [n, m] of manifests.entries()) {
    const outcome: CaseOutcome = probe.available
      ? await runCase(backend, loadCase(m, options.dir), options)
      : { id: m.id, pass: false, maxAbsErr: Infinity, maxRelErr: Infinity, lseMaxErr: Infinity, message: `backend unavailable: ${probe.reason ?? ''}` };
    outcomes.push(outcome);
    options.onCase?.(outcome, n, manifests.length);
  }
  const skipped = outcomes.filter((o) => o.skipped).length;
  const passed = outcomes.filter((o) => o.pass && !o.skipped).length;
  return {
    backend: backend.name,
    ...(probe.device ? { device: probe.device } : {}),
    available: probe.available,
    ...(probe.reason ? { reason: probe.reason } : {}),
    outcomes,
    passed,
    failed: outcomes.length - passed - skipped,
    skipped,
  };
}

const num = (x: number) => (x === Infinity ? 'inf' : x === 0 ? '0' : x.toExponential(1));

/** The table a person reads: case × max abs / rel error × lse error × pass/fail, then `N passed, N failed`. */
export function formatReport(r: ConformanceReport): string {
  const width = Math.max(4, ...r.outcomes.map((o) => o.id.length));
  const lines = [`conformance of ${r.backend}${r.device ? ` on ${r.device}` : ''}${r.available ? '' : ` (unavailable: ${r.reason})`}`];
  lines.push(`${'case'.padEnd(width)}  ${'max abs'.padStart(8)}  ${'max rel'.padStart(8)}  ${'lse err'.padStart(8)}  result`);
  for (const o of r.outcomes) {
    const result = o.skipped ? `skip (${o.message?.replace(/^skipped: /, '')})` : o.pass ? 'pass' : `FAIL ${o.message ?? ''}`;
    lines.push(`${o.id.padEnd(width)}  ${num(o.maxAbsErr).padStart(8)}  ${num(o.maxRelErr).padStart(8)}  ${num(o.lseMaxErr).padStart(8)}  ${result}`);
  }
  lines.push(`${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''}`);
  return lines.join('\n');
}
