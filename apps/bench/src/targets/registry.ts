import { type Backend, reference } from '@sparse/core';
import { KNOWN_BACKENDS, loadBackend } from '@sparse/core/registry';
import { importer } from '../importer.js';
import { plainJs } from '../plain-js.js';
import { SOFTWARE_PENDING, softwareNotice } from '../software.js';
import type { TargetInfo, TargetSpec } from '../types.js';
import { BackendTarget } from './backend-target.js';
import { hasKvCache } from './calls.js';
import { loadOrt, OrtDenseTarget, OrtGqaTarget, ortVersion } from './ort-targets.js';
import { errorText, type Target } from './target.js';
import { loadTfWasm } from './tf-wasm.js';
import { TfjsDenseTarget } from './tfjs-dense-target.js';

export const PEER_DESCRIPTIONS: Record<string, string> = {
  'ort-dense': 'onnxruntime-node, native CPU EP: dense attention + additive mask (ONNX graph built in code)',
  'ort-gqa': 'onnxruntime-node, native CPU EP: contrib GroupQueryAttention with local_window_size (causal sliding window only)',
  'tfjs-wasm-dense': 'tf.js wasm backend (XNNPACK): dense attention + additive mask, one 2-d problem per kv head',
  'plain-js': 'plain JavaScript fused loop over the BlockMask, float32 arrays, one thread',
};

export const KV_CACHE_DESCRIPTION =
  'cpu-wasm with the kv cache resident (decode only): backend.kvCache() filled once outside the timed region; a step appends the Sq new K/V rows, runs attentionResident() with q from the host and downloads out';

/** Thrown (as the info's reason) when a target cannot even be created. */
export class Unavailable {
  constructor(readonly info: TargetInfo) {}
}

function baseInfo(spec: TargetSpec, description: string): TargetInfo {
  return { label: spec.label, name: spec.name, kind: spec.kind, available: true, threads: spec.threads, description };
}

async function simdPeak(): Promise<number | undefined> {
  try {
    const mod = await importer('@sparse/cpu-wasm');
    const fn = mod.measureSimdPeak;
    if (typeof fn !== 'function') return undefined;
    const r = (await (fn as () => unknown)()) as number | { gflops?: number; gflopsPerSecond?: number };
    const v = typeof r === 'number' ? r : (r?.gflops ?? r?.gflopsPerSecond);
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

async function createBackend(spec: TargetSpec, info: TargetInfo): Promise<Target> {
  let backend: Backend;
  let tf: Awaited<ReturnType<typeof loadTfWasm>> | undefined;
  if (spec.name === 'plain-js') backend = plainJs();
  else if (spec.name === 'reference') backend = reference();
  else {
    let factoryOptions: unknown;
    if (spec.name === 'cpu-wasm') factoryOptions = { threads: spec.threads ?? 1 };
    if (spec.name === 'webgpu' && spec.software) factoryOptions = { software: true };
    if (spec.name === 'tfjs') {
      tf = await loadTfWasm(spec.threads ?? 1);
      factoryOptions = { tf: tf.tf, backendName: 'wasm' };
      info.version = tf.version;
    }
    backend = await loadBackend(spec.name, { importer, factoryOptions });
  }
  const probe = await backend.probe();
  if (!probe.available) {
    await backend.dispose().catch(() => undefined);
    throw new Unavailable({ ...info, available: false, reason: probe.reason ?? 'probe said unavailable' });
  }
  info.device = probe.device;
  let calibrateAboveFlops: number | undefined;
  if (spec.name === 'webgpu' && spec.software) {
    const { softwareAdapter, notice } = softwareNotice(probe.device);
    info.notice = notice;
    info.extra = { ...info.extra, softwareAdapter };
    if (softwareAdapter) {
      info.description = `${info.description}; here on a software adapter (a CPU rasteriser): not a GPU measurement`;
      // A software adapter is one to two orders of magnitude slower than the CPU backends: time a slice of rows
      // before the first full run of every pattern, so the --max-run estimate can skip it before it starts.
      calibrateAboveFlops = 0;
    }
  }
  if (spec.name === 'tfjs') {
    info.threads = tf!.threads;
    info.device = `${probe.device ?? 'tf.js'} (tf.js wasm backend, ${tf!.threads} thread${tf!.threads > 1 ? 's' : ''})`;
  }
  if (spec.variant === 'kv-cache') {
    if (!hasKvCache(backend)) {
      await backend.dispose().catch(() => undefined);
      throw new Unavailable({ ...info, available: false, reason: `${spec.name} has no kvCache() / attentionResident() / download()` });
    }
    info.description = KV_CACHE_DESCRIPTION;
    info.extra = { ...info.extra, variant: 'kv-cache' };
  } else if (spec.name === 'cpu-wasm') {
    const peak = await simdPeak();
    if (peak !== undefined) info.extra = { simdPeakGflops: peak };
  }
  return new BackendTarget(info, backend, tf?.tf, calibrateAboveFlops, spec.variant);
}

/** Creates the target a child process runs; throws Unavailable with the reason when it cannot. */
export async function createTarget(spec: TargetSpec): Promise<Target> {
  const known = KNOWN_BACKENDS.find((k) => k.name === spec.name);
  const description = known ? known.summary : (PEER_DESCRIPTIONS[spec.name] ?? spec.name);
  const info = baseInfo(spec, description);
  if (spec.software) info.notice = SOFTWARE_PENDING;
  try {
    if (spec.kind === 'backend' || spec.name === 'plain-js') return await createBackend(spec, info);
    if (spec.name === 'ort-dense' || spec.name === 'ort-gqa') {
      const ort = await loadOrt();
      info.version = ortVersion(ort);
      info.device = `native CPU execution provider, intraOpNumThreads=${spec.threads}`;
      return spec.name === 'ort-dense' ? new OrtDenseTarget(info, ort, spec.threads ?? 1) : new OrtGqaTarget(info, ort, spec.threads ?? 1);
    }
    if (spec.name === 'tfjs-wasm-dense') {
      const tf = await loadTfWasm(spec.threads ?? 1);
      info.version = tf.version;
      info.threads = tf.threads;
      info.device = `tf.js wasm backend, ${tf.threads} thread${tf.threads > 1 ? 's' : ''}${tf.threads < (spec.threads ?? 1) ? ' (tf.js has no multithread support in Node)' : ''}`;
      return new TfjsDenseTarget(info, tf.tf);
    }
  } catch (e) {
    if (e instanceof Unavailable) throw e;
    throw new Unavailable({ ...info, available: false, reason: errorText(e).replace(/^backend "[^"]+": /, '') });
  }
  throw new Unavailable({ ...info, available: false, reason: `unknown target "${spec.name}"` });
}
