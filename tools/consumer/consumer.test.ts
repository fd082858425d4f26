import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, FLAGS, openPage, type PageResult } from './browser.js';
import { startViteDev } from './dev.js';
import { installProject } from './install.js';
import { packPackages } from './pack.js';
import { CONSUMERS, VITE_DEV } from './projects.js';
import { serveStatic } from './server.js';

/**
 * The packages as a user gets them: `pnpm pack` tarballs installed with npm into projects outside the workspace,
 * one per bundler, each building the same page (page/main.js) with the bundler's default configuration. Every
 * build is served with cross-origin isolation (the page must run on two workers) and without (the single-threaded
 * kernel), opened in headless Chromium, and must print PASS with no console error. The projects stay in the
 * system's temp folder between runs and are reinstalled only when a tarball changes. In CI (CI=true) a missing
 * browser fails; elsewhere the suite is skipped with a message.
 */
if (!CHROMIUM) {
  const message = 'consumer builds: no Chromium found (install Debian/Ubuntu package `chromium`, or set CHROMIUM_PATH)';
  if (process.env.CI === 'true') throw new Error(`${message}; CI=true requires the browser tests: run tools/setup-system.sh`);
  console.warn(`${message}; consumer tests skipped`);
}

const BASE = join(tmpdir(), 'sparse-consumer');

describe.skipIf(!CHROMIUM)('the packed packages in user projects', () => {
  let browser: Browser | undefined;
  let tarballs: Record<string, string>;

  beforeAll(async () => {
    tarballs = packPackages(['@sparse/core', '@sparse/cpu-wasm'], join(BASE, 'tarballs'));
    browser = await chromium.launch({ executablePath: CHROMIUM!, args: FLAGS, headless: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  for (const consumer of CONSUMERS) {
    describe(consumer.name, () => {
      let root: string;
      beforeAll(() => {
        const dir = installProject(BASE, consumer.name, tarballs, consumer.deps);
        root = consumer.build(dir);
      }, 300_000);

      async function open(isolated: boolean): Promise<PageResult> {
        const { server, url } = await serveStatic(root, isolated);
        try {
          return await openPage(browser!, url, consumer.missing);
        } finally {
          await new Promise((ok) => server.close(ok));
        }
      }

      it('cross-origin isolated: PASS on two workers', async () => {
        const r = await open(true);
        expect(r.problems, JSON.stringify(r)).toEqual([]);
        expect(r, JSON.stringify(r)).toMatchObject({ pass: true, crossOriginIsolated: true, mode: 'workers', threads: 2 });
      });

      it('not isolated: PASS single-threaded, saying why', async () => {
        const r = await open(false);
        expect(r.problems, JSON.stringify(r)).toEqual([]);
        expect(r, JSON.stringify(r)).toMatchObject({ pass: true, crossOriginIsolated: false, mode: 'inline', threads: 1 });
        expect(r.device).toMatch(/cross-origin isolat/);
      });
    });
  }

  // `vite` (dev) in the vite8 and vite7 projects: the dependency optimizer moves the package's modules.
  for (const name of VITE_DEV) {
    describe(`${name} dev server`, () => {
      let dir: string;
      beforeAll(() => {
        const consumer = CONSUMERS.find((c) => c.name === name)!;
        dir = installProject(BASE, name, tarballs, consumer.deps);
        consumer.build(dir);
      }, 300_000);

      async function open(isolated: boolean): Promise<PageResult> {
        const dev = await startViteDev(dir, isolated);
        try {
          return await openPage(browser!, dev.url);
        } finally {
          dev.stop();
        }
      }

      it('cross-origin isolated (server.headers): PASS on two workers', async () => {
        const r = await open(true);
        expect(r.problems, JSON.stringify(r)).toEqual([]);
        expect(r, JSON.stringify(r)).toMatchObject({ pass: true, crossOriginIsolated: true, mode: 'workers', threads: 2 });
      });

      it('default configuration: PASS single-threaded', async () => {
        const r = await open(false);
        expect(r.problems, JSON.stringify(r)).toEqual([]);
        expect(r, JSON.stringify(r)).toMatchObject({ pass: true, crossOriginIsolated: false, mode: 'inline', threads: 1 });
      });
    });
  }
});
