#!/usr/bin/env node
import { parseArgs, USAGE, UsageError } from './args.js';
import { measureMemoryBandwidth } from './bandwidth.js';
import { makePlan } from './config.js';
import { describeMachine, finishMachine } from './machine.js';
import { runBenchmark } from './orchestrator.js';
import { fmtBytes } from './report/format.js';
import { LiveTable, summaryLine } from './report/table.js';
import { writeOutputs } from './report/write.js';

async function main(argv: string[]): Promise<number> {
  const options = parseArgs(argv);
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const plan = makePlan(options);
  const machine = describeMachine();
  const started = new Date();
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const out = process.stdout;
  out.write(
    `sparse-bench ${plan.quick ? '--quick ' : ''}· ${plan.cases.length} cases × ${plan.specs.length} targets · ${machine.cpuModel}, ${machine.availableParallelism} cores, ${fmtBytes(machine.memoryBytes)}, Node ${machine.node} · load ${machine.loadAverageStart.toFixed(2)}\n`,
  );
  for (const s of plan.sweep) out.write(`  sweep: ${s}\n`);
  // Before any child starts, so the targets do not compete with it.
  machine.memoryBandwidth = measureMemoryBandwidth();
  const bw = machine.memoryBandwidth;
  out.write(
    `memory bandwidth (Node, 1 thread, ${fmtBytes(bw.bytes)} arrays): copy ${bw.copyGBps.toFixed(1)} GB/s, read ${bw.readGBps.toFixed(1)} GB/s; limit ${bw.limitGBps.toFixed(1)} GB/s\n`,
  );
  out.write('targets:\n');
  const table = new LiveTable(out);
  const { targets, records } = await runBenchmark({
    specs: plan.specs,
    cases: plan.cases,
    settings: plan.settings,
    caseTimeoutMs: plan.caseTimeoutMs,
    initTimeoutMs: plan.initTimeoutMs,
    bandwidthGBps: machine.memoryBandwidth.limitGBps,
    onEvent: (e) => table.onEvent(e),
  });
  table.done();
  const finished = new Date();
  const files = writeOutputs(plan.outDir, stamp, {
    schema: 1,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationS: (finished.getTime() - started.getTime()) / 1000,
    command: `node apps/bench/dist/main.js ${argv.join(' ')}`.trim(),
    quick: plan.quick,
    sweep: plan.sweep,
    settings: { ...plan.settings, suite: plan.suite, threads: plan.threads, caseTimeoutMs: plan.caseTimeoutMs, webgpuSoftware: options.webgpuSoftware },
    machine: finishMachine(machine),
    targets,
    cases: records,
  });
  out.write(`\n${summaryLine(records)}\n`);
  out.write(`wrote ${files.json}\n      ${files.markdown} (and ${files.latest})\n      ${files.charts.length} charts (.svg) beside them\n`);
  out.write(`done in ${((finished.getTime() - started.getTime()) / 1000).toFixed(0)} s\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`sparse-bench: ${e.message}\n${USAGE}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`sparse-bench: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 1;
    }
  },
);
