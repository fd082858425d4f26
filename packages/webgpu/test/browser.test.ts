import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BEHAVIOUR_LEAK_CHECK, behaviourChecks, FIXTURES_DIR, listCases } from '@sparse/conformance';
import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageReport } from './browser/page.js';

/**
 * A real headless Chromium page (playwright-core driving the system's chromium) that bundles the backend and runs
 * our own cases, the resident path, every conformance case and every check of the behaviour suite (runBehaviour,
 * with GpuTensor resident hooks) on navigator.gpu (SwiftShader); each case and check is its own test here. In CI
 * (CI=true) a missing browser fails; elsewhere the suite is skipped with a message saying how to get one.
 */
const here = dirname(fileURLToPath(import.meta.url));
const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => !!p && existsSync(p));
const FLAGS = [
  '--enable-unsafe-webgpu',
  '--enable-unsafe-swiftshader',
  '--use-webgpu-adapter=swiftshader',
  // The kernels write workgroup memory before reading it; skipping Dawn's zero-init cuts SwiftShader compiles from seconds to milliseconds.
  '--enable-dawn-features=disable_workgroup_init',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--headless',
];

if (!CHROMIUM) {
  const message = '@sparse/webgpu: no Chromium found (install Debian/Ubuntu package `chromium`, or set CHROMIUM_PATH)';
  if (process.env.CI === 'true') throw new Error(`${message}; CI=true requires the browser tests: run tools/setup-system.sh`);
  console.warn(`${message}; browser tests skipped`);
}

const manifests = listCases();
// The page runs these, resident part included, and reports each by name.
const behaviourNames = [...behaviourChecks().map((c) => c.name), BEHAVIOUR_LEAK_CHECK];

async function bundlePage(): Promise<string> {
  const result = await build({
    entryPoints: [join(here, 'browser', 'page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'error',
  });
  return result.outputFiles[0]!.text;
}

function serve(page: string): Promise<Server> {
  const fixtures = resolve(FIXTURES_DIR);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (url.pathname === '/')
      return send(200, 'text/html', '<!doctype html><meta charset="utf-8"><title>@sparse/webgpu</title><script type="module" src="/page.js"></script>');
    if (url.pathname === '/page.js') return send(200, 'text/javascript', page);
    if (url.pathname === '/cases.json') return send(200, 'application/json', JSON.stringify(manifests));
    if (url.pathname.startsWith('/fixtures/')) {
      const file = normalize(join(fixtures, decodeURIComponent(url.pathname.slice('/fixtures/'.length))));
      if (file.startsWith(fixtures) && existsSync(file)) return send(200, 'application/octet-stream', readFileSync(file));
    }
    send(404, 'text/plain', 'not found');
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

describe.skipIf(!CHROMIUM)('headless Chromium page (navigator.gpu)', () => {
  let server: Server | undefined;
  let browser: Browser | undefined;
  let report: PageReport;
  const logs: string[] = [];

  beforeAll(async () => {
    server = await serve(await bundlePage());
    browser = await chromium.launch({ executablePath: CHROMIUM!, args: FLAGS, headless: true });
    const page = await browser.newPage();
    page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => (globalThis as { __report?: unknown }).__report !== undefined, null, { timeout: 300_000, polling: 250 });
    report = (await page.evaluate(() => (globalThis as unknown as { __report: unknown }).__report)) as PageReport;
  }, 360_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
  });

  it('finds a WebGPU adapter in the page', () => {
    expect(report.error, `${report.error}\n${logs.join('\n')}`).toBeUndefined();
    expect(report.available, `${report.reason}\n${logs.join('\n')}`).toBe(true);
  });

  it('matches the reference on its own cases and the resident path', () => {
    expect(report.own.length).toBeGreaterThan(5);
    for (const o of report.own) expect(o.problem, o.name).toBeNull();
  });

  for (const m of manifests) {
    it(`conformance ${m.id}`, () => {
      const outcome = report.conformance.find((o) => o.id === m.id);
      expect(outcome, `${m.id} did not run in the page`).toBeDefined();
      expect(outcome!.pass, `${m.id} (${m.pins}): ${outcome!.message}`).toBe(true);
    });
  }

  for (const name of behaviourNames) {
    it(`behaviour ${name}`, (t) => {
      const outcome = report.behaviour?.outcomes.find((o) => o.name === name);
      const why = report.behaviourError ?? (report.behaviour && !report.behaviour.available ? report.behaviour.reason : undefined);
      expect(outcome, `'${name}' did not run in the page${why ? `: ${why}` : ''}`).toBeDefined();
      if (outcome!.status === 'skip') t.skip(`skipped in the page: ${outcome!.message}`);
      expect(outcome!.status, `${name}: ${outcome!.message}`).toBe('pass');
    });
  }
});
