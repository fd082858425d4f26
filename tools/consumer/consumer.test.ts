import { cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, FLAGS, openPage, type PageResult } from './browser.js';
import { startViteDev } from './dev.js';
import { BACKENDS, expected } from './expected.js';
import { installProject } from './install.js';
import { CONSUMERS, VITE_DEV } from './projects.js';
import { serveStatic } from './server.js';

/**
 * The packages as a user gets them: installed with npm from the run's local registry (registry/global-setup.ts) into
 * projects outside the workspace, one per bundler, each building the same page (page/) with the bundler's default
 * configuration. The page runs cpu-wasm, webgpu (navigator.gpu on SwiftShader) and tfjs (tf.js's wasm backend)
 * against core's reference. Every build is served with cross-origin isolation (cpu-wasm must run on two workers) and
 * without (the single-threaded kernel), opened in headless Chromium, and every backend must PASS with no console
 * error. The projects stay in the system's temp folder between runs and are reinstalled only when what was published
 * changes. In CI (CI=true) a missing browser fails; elsewhere the suite is skipped with a message.
 */
if (!CHROMIUM) {
  const message = 'consumer builds: no Chromium found (install Debian/Ubuntu package `chromium`, or set CHROMIUM_PATH)';
  if (process.env.CI === 'true') throw new Error(`${message}; CI=true requires the browser tests: run tools/setup-system.sh`);
  console.warn(`${message}; consumer tests skipped`);
}

const BASE = join(tmpdir(), 'sparse-consumer');

/** One page load per isolation setting; every backend's result is its own test, and console errors another. */
function pageTests(open: (isolated: boolean) => Promise<PageResult>, tfjsThreads = true): void {
  for (const isolated of [true, false]) {
    describe(isolated ? 'cross-origin isolated' : 'not isolated', () => {
      let loaded: Promise<PageResult> | undefined;
      const page = () => (loaded ??= open(isolated));

      it('no console errors', async () => {
        const r = await page();
        expect(r.problems, JSON.stringify(r)).toEqual([]);
        expect(r.crossOriginIsolated).toBe(isolated);
      });

      for (const backend of BACKENDS) {
        const { title, match } = expected(backend, isolated, tfjsThreads);
        it(`${backend}: ${title}`, async () => {
          const r = await page();
          expect(r.backends[backend], JSON.stringify(r.backends[backend])).toMatchObject(match);
        });
      }
    });
  }
}

describe.skipIf(!CHROMIUM)('the published packages in user projects', () => {
  let browser: Browser | undefined;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM!, args: FLAGS, headless: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  for (const consumer of CONSUMERS) {
    describe(consumer.name, () => {
      let root: string;
      beforeAll(() => {
        const dir = installProject(BASE, consumer.name, consumer.deps);
        root = consumer.build(dir);
      }, 300_000);

      pageTests(async (isolated) => {
        const { server, url } = await serveStatic(root, isolated);
        try {
          return await openPage(browser!, url, consumer.missing);
        } finally {
          await new Promise((ok) => server.close(ok));
        }
      }, consumer.tfjsThreads);
    });
  }

  // `vite` (dev) in the vite8 and vite7 projects: the dependency optimizer moves the package's modules.
  // Isolation needs server.headers (startViteDev); without it, the default configuration.
  for (const name of VITE_DEV) {
    describe(`${name} dev server`, () => {
      let dir: string;
      beforeAll(() => {
        const consumer = CONSUMERS.find((c) => c.name === name)!;
        dir = installProject(BASE, name, consumer.deps);
        consumer.build(dir);
        // The dev server does not minify: tf.js's threaded build works there (see Consumer.tfjsThreads).
        cpSync(join(import.meta.dirname, 'page', 'tfjs-settings.js'), join(dir, 'src', 'tfjs-settings.js'));
      }, 300_000);

      pageTests(async (isolated) => {
        const dev = await startViteDev(dir, isolated);
        try {
          return await openPage(browser!, dev.url);
        } finally {
          await dev.stop();
        }
      });
    });
  }
});
