/**
 * The browser test page: runs the backend on navigator.gpu (headless Chromium, SwiftShader) over our own cases,
 * the resident path, every conformance case and every check of the behaviour suite (GpuTensors on the backend's
 * own device for its resident part), and leaves the report on window.__report for the test runner.
 */
import { type BehaviourRun, type CaseManifest, type CaseOutcome, caseFromFiles, type ResidentHooks, runBehaviour, runCase } from '@sparse/conformance/browser';
import type { AttentionRequest, Backend, Pattern } from '@sparse/core';
import { type GpuTensor, type WebGpuBackend, webgpu } from '../../src/index.js';
import { download, upload } from '../support/buffers.js';
import { makeRequest, mismatch } from '../support/data.js';

export interface PageReport {
  available: boolean;
  reason?: string;
  device?: string;
  own: { name: string; problem: string | null }[];
  conformance: CaseOutcome[];
  /** The behaviour suite's outcomes, one per check; `behaviourError` when the run itself threw. */
  behaviour?: BehaviourRun;
  behaviourError?: string;
  error?: string;
  ms: number;
}

const OWN: [string, AttentionRequest][] = [
  ['GQA local, bhsd', makeRequest({ Hq: 4, Hkv: 2, Sq: 37, Sk: 45, D: 8 }, { kind: 'local', left: 5, right: 2 })],
  ['bshd, Dv != D, causal', makeRequest({ B: 2, Hq: 2, Sq: 19, D: 6, Dv: 10, layout: 'bshd' }, { kind: 'causal' })],
  ['top-k ties', makeRequest({ Sq: 12, Sk: 40, D: 4 }, { kind: 'topk', k: 5 })],
  [
    'cluster',
    makeRequest(
      { Sq: 20, D: 4 },
      {
        kind: 'cluster',
        centroids: [
          [1, 0, 0, 0],
          [0, 1, 0, 0],
          [0, 0, 1, 0],
        ],
      },
    ),
  ],
  ['per-head', makeRequest({ Hq: 2, Sq: 30, D: 8 }, [{ kind: 'causal' }, { kind: 'dilated', dilation: 3 }] as Pattern[])],
];
// Ties: keys repeat every 4 rows.
{
  const k = OWN[2]![1].k.data;
  for (let j = 4; j < 40; j++) for (let d = 0; d < 4; d++) k[j * 4 + d] = k[(j % 4) * 4 + d]!;
}
// The non-finite rule under Chrome's shader compiler: NaN in k (rows 1..5 NaN), Inf in v and in a top-k candidate.
{
  const nanK = makeRequest({ Sq: 40, D: 8 }, { kind: 'local', left: 2, right: 2 });
  nanK.k.data[3 * 8 + 5] = Number.NaN;
  nanK.v.data[30 * 8 + 1] = Number.POSITIVE_INFINITY;
  const topk = makeRequest({ Sq: 30, D: 8 }, { kind: 'topk', k: 1, within: { kind: 'local', left: 2, right: 2 } });
  topk.k.data[12 * 8] = Number.NaN;
  OWN.push(['non-finite k and v, local', nanK], ['non-finite top-k candidate', topk]);
}

async function bytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

const deviceOf = (b: Backend) => (b as WebGpuBackend).device();
const size = (shape: readonly number[]) => shape.reduce((a, x) => a * x, 1);

/** Device tensors for the behaviour suite's resident part, as in the Node behaviour test. */
const RESIDENT: ResidentHooks<GpuTensor> = {
  upload: async (t, b) => ({ buffer: upload(await deviceOf(b), t.data), shape: [...t.shape] }),
  download: async (t, b) => ({ data: await download(await deviceOf(b), t.buffer, size(t.shape)), shape: [...t.shape] }),
  release: (t) => t.buffer.destroy(),
};

/** Every check of the behaviour suite on backends made in this page; a throw outside the checks is reported apart. */
async function behaviour(report: PageReport): Promise<void> {
  try {
    report.behaviour = await runBehaviour<GpuTensor>({ name: 'webgpu (Chromium page)', create: (options) => webgpu({ ...options }), resident: RESIDENT });
  } catch (e) {
    report.behaviourError = (e as Error)?.stack ?? String(e);
  }
}

async function run(): Promise<PageReport> {
  const started = performance.now();
  const backend = webgpu();
  const probe = await backend.probe();
  const report: PageReport = { available: probe.available, reason: probe.reason, device: probe.device, own: [], conformance: [], ms: 0 };
  if (!probe.available) return report;
  for (const [name, request] of OWN) report.own.push({ name, problem: mismatch(request, await backend.attention(request)) });

  // Resident path on the page's own device.
  const device = await backend.device();
  const request = makeRequest({ Hq: 2, Sq: 23, D: 8 }, { kind: 'local', left: 3, right: 3 });
  const t = (x: AttentionRequest['q']) => ({ buffer: upload(device, x.data), shape: x.shape });
  const res = await backend.attentionResident({ q: t(request.q), k: t(request.k), v: t(request.v), pattern: request.pattern, returnLse: true });
  const got = {
    out: { data: await download(device, res.out.buffer, 2 * 23 * 8), shape: res.out.shape },
    lse: { data: await download(device, res.lse!.buffer, 2 * 23), shape: res.lse!.shape },
  };
  report.own.push({ name: 'resident GPUBuffers', problem: mismatch(request, got) });

  const manifests = (await (await fetch('/cases.json')).json()) as CaseManifest[];
  for (const m of manifests) {
    const base = `/fixtures/${m.id}/`;
    const [q, k, v, out, lse] = await Promise.all([m.files.q, m.files.k, m.files.v, m.files.out, m.files.lse].map((f) => bytes(base + f)));
    report.conformance.push(await runCase(backend, caseFromFiles(m, { q: q!, k: k!, v: v!, out: out!, lse: lse! })));
  }
  await backend.dispose();
  await behaviour(report);
  report.ms = performance.now() - started;
  return report;
}

const target = globalThis as unknown as { __report?: PageReport };
run().then(
  (r) => {
    target.__report = r;
  },
  (e: unknown) => {
    target.__report = { available: false, own: [], conformance: [], error: (e as Error)?.stack ?? String(e), ms: 0 };
  },
);
