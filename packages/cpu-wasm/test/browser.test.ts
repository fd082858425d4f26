import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES_DIR, listCases } from '@sparse/conformance';
import { type Browser, chromium } from 'playwright-core';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageReport } from './browser/page.js';

/**
 * Real headless Chromium pages (playwright-core driving the system's chromium) that load the built package the way a
 * page does without a bundler: native ES modules through an import map (dist/browser.js, the package's `browser`
 * entry), dist/worker.js started as a module Web Worker and dist/*.wasm fetched through `new URL(…, import.meta.url)`.
 * One page is cross-origin isolated (COOP same-origin, COEP require-corp) and must run on two Web Workers over a
 * shared memory; the other is not, and must fall back to the calling thread and say why. Both run every conformance case
 * with each build of the kernel: the relaxed-SIMD one (kernel 'auto' picks it: Chromium runs relaxed SIMD) and the
 * SIMD128 one (forced). In CI (CI=true) a missing browser fails;
 * elsewhere the suite is skipped with a message saying how to get one.
 */
const here = dirname(fileURLToPath(import.meta.url));
const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => !!p && existsSync(p));
const FLAGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--headless'];

if (!CHROMIUM) {
  const message = '@sparse/cpu-wasm: no Chromium found (install Debian/Ubuntu package `chromium`, or set CHROMIUM_PATH)';
  if (process.env.CI === 'true') throw new Error(`${message}; CI=true requires the browser tests: run tools/setup-system.sh`);
  console.warn(`${message}; browser tests skipped`);
}

const manifests = listCases();

/**
 * URL prefix → directory: the three packages' builds as a page would serve them from node_modules, the fixtures, and
 * two copies of cpu-wasm's build served wrongly: /missing/… answers 404 for dist/worker.js, /without-coep/… sends no
 * isolation headers (a server that sets them on the page only).
 */
const DIST = resolve(here, '..', 'dist');
const MISSING_WORKER = '/missing/node_modules/@sparse/cpu-wasm/dist/worker.js';
const MOUNTS: [string, string][] = [
  ['/node_modules/@sparse/cpu-wasm/dist/', DIST],
  ['/missing/node_modules/@sparse/cpu-wasm/dist/', DIST],
  ['/without-coep/node_modules/@sparse/cpu-wasm/dist/', DIST],
  ['/node_modules/@sparse/core/dist/', dirname(fileURLToPath(import.meta.resolve('@sparse/core')))],
  ['/node_modules/@sparse/conformance/dist/', dirname(fileURLToPath(import.meta.resolve('@sparse/conformance/browser')))],
  ['/fixtures/', resolve(FIXTURES_DIR)],
];
const IMPORT_MAP = {
  imports: {
    '@sparse/cpu-wasm': '/node_modules/@sparse/cpu-wasm/dist/browser.js',
    '@sparse/core': '/node_modules/@sparse/core/dist/index.js',
    '@sparse/core/backend': '/node_modules/@sparse/core/dist/entry/backend.js',
    '@sparse/core/reference': '/node_modules/@sparse/core/dist/entry/reference.js',
    '@sparse/conformance/browser': '/node_modules/@sparse/conformance/dist/browser.js',
  },
};
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.map': 'application/json' };
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

/** The page entry, TypeScript stripped; its imports stay bare specifiers for the import map. */
function pageScript(): string {
  const source = readFileSync(join(here, 'browser', 'page.ts'), 'utf8');
  return ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true } })
    .outputText;
}

/** Serves one page; `isolated` adds the cross-origin isolation headers to every response. Records the paths served. */
function serve(script: string, isolated: boolean, served: string[]): Promise<Server> {
  const html = `<!doctype html><meta charset="utf-8"><title>@sparse/cpu-wasm</title>
<script type="importmap">${JSON.stringify(IMPORT_MAP)}</script>
<script type="module" src="/page.js"></script>`;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { 'content-type': type, ...(isolated && !url.pathname.startsWith('/without-coep/') ? ISOLATION : {}) });
      res.end(body);
    };
    served.push(url.pathname);
    if (url.pathname === '/') return send(200, 'text/html', html);
    if (url.pathname === '/page.js') return send(200, 'text/javascript', script);
    if (url.pathname === '/cases.json') return send(200, 'application/json', JSON.stringify(manifests));
    if (url.pathname === MISSING_WORKER) return send(404, 'text/plain', 'not found');
    for (const [prefix, dir] of MOUNTS) {
      if (!url.pathname.startsWith(prefix)) continue;
      const file = normalize(join(dir, decodeURIComponent(url.pathname.slice(prefix.length))));
      if (file.startsWith(dir + sep) && existsSync(file)) return send(200, TYPES[extname(file)] ?? 'application/octet-stream', readFileSync(file));
    }
    send(404, 'text/plain', 'not found');
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

function isReport(r: PageReport | { error: string }): r is PageReport {
  return !('error' in r);
}

describe.skipIf(!CHROMIUM)('headless Chromium pages', () => {
  let browser: Browser | undefined;
  const servers: Server[] = [];
  const script = pageScript();

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM!, args: FLAGS, headless: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all(servers.map((s) => new Promise((ok) => s.close(ok))));
  });

  /** Opens the page in its own browser context and waits for its report. */
  async function openPage(isolated: boolean): Promise<{ report: PageReport; served: string[]; logs: string[] }> {
    const served: string[] = [];
    const logs: string[] = [];
    const server = await serve(script, isolated, served);
    servers.push(server);
    const context = await browser!.newContext();
    try {
      const page = await context.newPage();
      page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      await page.waitForFunction(() => (globalThis as { __report?: unknown }).__report !== undefined, null, { timeout: 150_000, polling: 100 });
      const report = (await page.evaluate(() => (globalThis as unknown as { __report: unknown }).__report)) as PageReport | { error: string };
      if (!isReport(report)) throw new Error(`the page failed: ${report.error}\n${logs.join('\n')}`);
      return { report, served, logs };
    } finally {
      await context.close();
    }
  }

  function conformance(label: string, get: () => PageReport['conformance']) {
    for (const m of manifests) {
      it(`${label}: conformance ${m.id}`, () => {
        const outcome = get().find((o) => o.id === m.id);
        expect(outcome, `${m.id} did not run in the page`).toBeDefined();
        expect(outcome!.pass, `${m.id} (${m.pins}): ${outcome!.message}`).toBe(true);
      });
    }
  }

  describe('cross-origin isolated page', () => {
    let report: PageReport;
    let served: string[];
    let logs: string[];

    beforeAll(async () => {
      ({ report, served, logs } = await openPage(true));
    }, 180_000);

    it('runs the relaxed-SIMD kernel on two module Web Workers over one shared memory', () => {
      expect(report.crossOriginIsolated, logs.join('\n')).toBe(true);
      expect(report.sharedArrayBuffer).toBe(true);
      expect(report.probe, `${report.probe.reason}\n${logs.join('\n')}`).toMatchObject({ available: true });
      expect(report.probe.device).toMatch(/^WebAssembly relaxed SIMD \(AssemblyScript\), 2 worker threads over one shared memory/);
      expect(report.info).toMatchObject({ backend: 'cpu-wasm', mode: 'workers', threads: 2, kernel: 'relaxed' });
      expect(report.info?.fallbackReason).toBeUndefined();
      expect(report.info?.kernelReason).toBeUndefined();
      expect(report.info?.nnz).toBeGreaterThan(0);
    });

    it("runs the SIMD128 kernel there when kernel: 'simd128' is asked for", () => {
      const { probe, info } = report.simd128;
      expect(probe, `${probe.reason}\n${logs.join('\n')}`).toMatchObject({ available: true });
      expect(probe.device).toMatch(/^WebAssembly SIMD128 \(AssemblyScript; kernel: 'simd128' was requested\), 2 worker threads/);
      expect(info).toMatchObject({ mode: 'workers', threads: 2, kernel: 'simd128' });
    });

    it('loads dist/worker.js and the shared-memory kernels relative to the module, as a page would', () => {
      expect(served).toContain('/node_modules/@sparse/cpu-wasm/dist/worker.js');
      expect(served).toContain('/node_modules/@sparse/cpu-wasm/dist/relaxed/kernel.wasm');
      expect(served).toContain('/node_modules/@sparse/cpu-wasm/dist/kernel.wasm');
      expect(served).not.toContain('/node_modules/@sparse/cpu-wasm/dist/relaxed/kernel-st.wasm');
      expect(served).not.toContain('/node_modules/@sparse/cpu-wasm/dist/kernel-st.wasm');
    });

    it('defaults to navigator.hardwareConcurrency threads', () => {
      const n = Math.min(report.hardwareConcurrency, 256);
      expect(report.defaults.probe, JSON.stringify(report.defaults)).toMatchObject({ available: true });
      expect(report.defaults.probe.device).toContain(`${n} worker thread${n === 1 ? '' : 's'}`);
    });

    it('starts the embedded worker when dist/worker.js is missing, or served without the isolation headers', () => {
      const { missing, withoutCoep } = report.broken;
      expect(missing, JSON.stringify(missing)).toMatchObject({ available: true });
      expect(missing.device).toMatch(/2 worker threads over one shared memory/);
      expect(served).toContain(MISSING_WORKER);
      expect(withoutCoep, JSON.stringify(withoutCoep)).toMatchObject({ available: true });
      expect(served).toContain('/without-coep/node_modules/@sparse/cpu-wasm/dist/worker-embedded.js');
    });

    it('ran every conformance case with both kernels', () => {
      expect(report.conformance.map((o) => o.id)).toEqual(manifests.map((m) => m.id));
      expect(report.simd128.conformance.map((o) => o.id)).toEqual(manifests.map((m) => m.id));
      console.info(`cpu-wasm browser, 2 workers, relaxed SIMD: ${manifests.length} cases in ${report.ms.toFixed(0)} ms`);
    });

    conformance('2 workers, relaxed SIMD', () => report.conformance);
    conformance('2 workers, SIMD128', () => report.simd128.conformance);

    it('turns a wasm trap into INTERNAL and a dead worker into DEVICE_LOST, and recovers from both', () => {
      expect(report.drills.map((d) => d.name)).toEqual(['trap', 'kill-worker']);
      for (const d of report.drills) expect(d.problem, d.name).toBeNull();
    });
  });

  describe('page without cross-origin isolation', () => {
    let report: PageReport;
    let served: string[];
    let logs: string[];

    beforeAll(async () => {
      ({ report, served, logs } = await openPage(false));
    }, 180_000);

    it('falls back to the calling thread and says why', () => {
      expect(report.crossOriginIsolated).toBe(false);
      expect(report.probe, `${report.probe.reason}\n${logs.join('\n')}`).toMatchObject({ available: true });
      expect(report.probe.device).toMatch(/^WebAssembly relaxed SIMD \(AssemblyScript\), single-threaded on the calling thread/);
      expect(report.probe.device).toMatch(/cross-origin isolation|not cross-origin isolated/);
      expect(report.info).toMatchObject({ mode: 'inline', threads: 1, kernel: 'relaxed' });
      expect(report.simd128.info).toMatchObject({ mode: 'inline', threads: 1, kernel: 'simd128' });
      expect(report.info?.fallbackReason).toMatch(/cross-origin isolation|not cross-origin isolated/);
      expect(report.defaults.probe.device).toMatch(/single-threaded on the calling thread/);
    });

    it('needs neither dist/worker.js nor the isolation headers on the package files', () => {
      expect(report.broken.missing, JSON.stringify(report.broken)).toMatchObject({ available: true });
      expect(report.broken.withoutCoep, JSON.stringify(report.broken)).toMatchObject({ available: true });
    });

    it('loads only the single-threaded kernels and starts no worker', () => {
      expect(served).toContain('/node_modules/@sparse/cpu-wasm/dist/relaxed/kernel-st.wasm');
      expect(served).toContain('/node_modules/@sparse/cpu-wasm/dist/kernel-st.wasm');
      expect(served).not.toContain('/node_modules/@sparse/cpu-wasm/dist/relaxed/kernel.wasm');
      expect(served).not.toContain('/node_modules/@sparse/cpu-wasm/dist/kernel.wasm');
      expect(served).not.toContain('/node_modules/@sparse/cpu-wasm/dist/worker.js');
    });

    it('ran every conformance case with both kernels', () => {
      expect(report.conformance.map((o) => o.id)).toEqual(manifests.map((m) => m.id));
      expect(report.simd128.conformance.map((o) => o.id)).toEqual(manifests.map((m) => m.id));
      console.info(`cpu-wasm browser, inline, relaxed SIMD: ${manifests.length} cases in ${report.ms.toFixed(0)} ms`);
    });

    conformance('inline, relaxed SIMD', () => report.conformance);
    conformance('inline, SIMD128', () => report.simd128.conformance);

    it('turns a wasm trap into INTERNAL and recovers', () => {
      expect(report.drills.map((d) => d.name)).toEqual(['trap']);
      for (const d of report.drills) expect(d.problem, d.name).toBeNull();
    });
  });
});
