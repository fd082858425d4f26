import type { Backend } from '@sparse/core';
import type { BehaviourContext, BehaviourOptions, CreateOptions } from './types.js';

/**
 * The context the checks run in: `started` is the suite's probed backend; `fresh` creates another, runs `fn` on
 * it and disposes it. `live` counts the fresh backends not yet disposed.
 */
export function behaviourContext<T>(options: BehaviourOptions<T>, started: Backend): BehaviourContext<T> & { live(): number } {
  let live = 0;
  return {
    options,
    started,
    async fresh<R>(fn: (b: Backend) => Promise<R>, createOptions?: CreateOptions): Promise<R> {
      const b = await (createOptions ? options.create(createOptions) : options.create());
      live++;
      try {
        return await fn(b);
      } finally {
        live--;
        await b.dispose();
      }
    },
    live: () => live,
  };
}
