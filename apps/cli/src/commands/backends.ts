import { KNOWN_BACKENDS } from '@sparse/core/registry';
import { checkFlags, type ParsedArgs } from '../args.js';
import { probeAll } from '../backends.js';

export async function backendsCommand(args: ParsedArgs): Promise<void> {
  checkFlags(args, ['json'], 'backends');
  const reports = await probeAll();
  if (args.flags.has('json')) {
    process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
    return;
  }
  const width = Math.max(...reports.map((r) => r.name.length));
  for (const r of reports) {
    const summary = KNOWN_BACKENDS.find((k) => k.name === r.name)?.summary ?? '';
    const state = r.available ? `available   ${r.device ?? ''}` : `unavailable ${r.reason ?? ''}`;
    process.stdout.write(`${r.name.padEnd(width)}  ${state}\n${' '.repeat(width)}  (${summary})\n`);
  }
}
