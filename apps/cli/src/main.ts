#!/usr/bin/env node
import { isSparseAttentionError } from '@sparse/core';
import { parseArgs } from './args.js';
import { backendsCommand } from './commands/backends.js';
import { DEMO_USAGE, demoCommand } from './commands/demo.js';
import { patternShowCommand, SHOW_USAGE } from './commands/pattern-show.js';
import { RUN_USAGE, runCommand } from './commands/run.js';

const USAGE = `usage:
  ${RUN_USAGE}
  sparse-attn backends [--json]
  ${SHOW_USAGE}
  ${DEMO_USAGE}`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      await runCommand(parseArgs(rest));
      return 0;
    case 'backends':
      await backendsCommand(parseArgs(rest, ['json']));
      return 0;
    case 'pattern':
      if (rest[0] !== 'show') break;
      await patternShowCommand(parseArgs(rest.slice(1)));
      return 0;
    case 'demo':
      await demoCommand(parseArgs(rest, ['json']));
      return Number(process.exitCode ?? 0);
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return 0;
  }
  process.stderr.write(`sparse-attn: unknown command ${JSON.stringify(argv.join(' '))}\n${USAGE}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    // Bad input is the user's to fix: one line, no stack trace, exit 2. Anything else is our bug: show it all.
    if (isSparseAttentionError(e)) {
      process.stderr.write(`sparse-attn: ${e.message} [${e.code}]\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`sparse-attn: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 1;
    }
  },
);
