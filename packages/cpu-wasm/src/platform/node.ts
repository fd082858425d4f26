import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { KernelBuild } from '../instance.js';
import type { FromWorker } from '../protocol.js';
import type { Platform, WorkerEvents, WorkerHandle } from './types.js';

function kernelUrl(shared: boolean, build: KernelBuild): URL {
  if (build === 'relaxed') return shared ? new URL('../relaxed/kernel.wasm', import.meta.url) : new URL('../relaxed/kernel-st.wasm', import.meta.url);
  return shared ? new URL('../kernel.wasm', import.meta.url) : new URL('../kernel-st.wasm', import.meta.url);
}

async function kernelBytes(shared: boolean, build: KernelBuild): Promise<{ bytes: Uint8Array; source: string }> {
  const url = kernelUrl(shared, build);
  if (url.protocol === 'file:') return { bytes: await readFile(url), source: url.href };
  const res = await fetch(url);
  if (!res.ok) throw new Error(`HTTP ${res.status} for ${url.href}`);
  return { bytes: new Uint8Array(await res.arrayBuffer()), source: url.href };
}

/** Starts dist/worker-node.js as a worker_threads Worker. */
async function spawnWorker(events: WorkerEvents): Promise<WorkerHandle> {
  let dead = false;
  const die = (reason: string) => {
    if (dead) return;
    dead = true;
    events.death(reason);
  };
  // Workers run a plain script: inherit no flags (--input-type, --expose-gc and others are invalid in workers).
  const w = new Worker(new URL('../worker-node.js', import.meta.url), { execArgv: [] });
  w.on('message', (m: FromWorker) => events.message(m));
  w.on('error', (e: Error) => die(`worker error: ${e.message}`));
  w.on('exit', (code: number) => die(`worker exited with code ${code}`));
  return {
    post: (m) => w.postMessage(m),
    terminate: async () => {
      await w.terminate();
    },
    ref: () => w.ref(),
    unref: () => w.unref(),
  };
}

export const nodePlatform: Platform = {
  kernelBytes,
  spawnWorker,
  defaultThreadCount: async () => Math.max(1, availableParallelism()),
};
