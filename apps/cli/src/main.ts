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

/**
 * Bad input is the user's to fix: one line, exit 2. Anything else is our bug: a short line, exit 1. Never a stack
 * trace: it says nothing to a user, and the message names what went wrong.
 */
function report(e: unknown): number {
  if (isSparseAttentionError(e) && e.code !== 'INTERNAL') {
    process.stderr.write(`sparse-attn: ${e.message.replace(/\s*\n\s*/g, ' ')} [${e.code}]\n`);
    return 2;
  }
  const first = (text: string) => text.split('\n', 1)[0]!.trim();
  const what = e instanceof Error ? `${e.name}: ${first(e.message)}` : first(String(e));
  process.stderr.write(`sparse-attn: internal error: ${what} (a bug: please report it with the command line)\n`);
  return 1;
}

// A failure outside the command's own promise (an event handler of a backend) is reported the same way.
const fatal = (e: unknown) => process.exit(report(e));
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.exitCode = report(e);
  },
);
