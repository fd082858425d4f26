/**
 * One target per child process: a native crash, a hung kernel or a leak in one backend or peer cannot take the
 * harness down or skew another's memory figures. The parent sends `init`, then one `run` per case.
 */
import { type Inputs, inputsKey as keyOf, makeInputs } from './data.js';
import { collectGarbage, RssSampler } from './memory.js';
import { SOFTWARE_PENDING } from './software.js';
import { createTarget, Unavailable } from './targets/registry.js';
import { errorText, type Target } from './targets/target.js';
import type { ChildSettings, FromChild, TargetResult, ToChild } from './types.js';
import type { BenchCase } from './workloads.js';

let target: Target | null = null;
let settings: ChildSettings | null = null;
const sampler = new RssSampler();
const history = new Map<string, number>();
let inputsKey = '';
let inputs: Inputs | null = null;
let baselineRssBytes = 0;

function send(msg: FromChild): void {
  // A parent that is gone cannot be told anything; the 'disconnect' handler below ends this process.
  if (process.connected) process.send?.(msg, undefined, undefined, () => undefined);
}

function inputsFor(c: BenchCase): Inputs {
  const key = keyOf(c);
  if (key !== inputsKey || !inputs) {
    inputs = null; // let the old ones go before allocating the new ones
    inputs = makeInputs(c);
    inputsKey = key;
  }
  return inputs;
}

async function handle(msg: ToChild): Promise<void> {
  if (msg.type === 'exit') {
    await target?.dispose().catch(() => undefined);
    await sampler.dispose();
    process.exit(0);
  }
  if (msg.type === 'release') {
    inputs = null;
    inputsKey = '';
    collectGarbage();
    return;
  }
  if (msg.type === 'init') {
    settings = msg.settings;
    try {
      target = await createTarget(msg.spec);
      collectGarbage();
      baselineRssBytes = process.memoryUsage.rss();
      send({ type: 'info', info: target.info });
    } catch (e) {
      const info =
        e instanceof Unavailable
          ? e.info
          : {
              label: msg.spec.label,
              name: msg.spec.name,
              kind: msg.spec.kind,
              available: false,
              threads: msg.spec.threads,
              description: '',
              reason: errorText(e),
              ...(msg.spec.software ? { notice: SOFTWARE_PENDING } : {}),
            };
      send({ type: 'info', info });
    }
    return;
  }
  const c = msg.case;
  let result: TargetResult;
  if (!target || !settings) result = { status: 'unavailable', reason: 'target not initialised' };
  else {
    try {
      result = await target.run({
        case: c,
        stats: msg.stats,
        inputs: inputsFor(c),
        settings,
        sampler,
        baselineRssBytes,
        history,
        phase: (phase) => send({ type: 'phase', caseId: c.id, phase }),
      });
    } catch (e) {
      result = { status: 'failed', reason: errorText(e) };
    }
  }
  send({ type: 'result', caseId: c.id, result });
}

let queue = Promise.resolve();
process.on('message', (msg: ToChild) => {
  queue = queue.then(() => handle(msg));
});
process.on('disconnect', () => process.exit(0));
