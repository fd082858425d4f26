import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

export const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => !!p && existsSync(p));
export const FLAGS = [
  // navigator.gpu on SwiftShader, the software adapter, for @sparse/webgpu.
  '--enable-unsafe-webgpu',
  '--enable-unsafe-swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--headless',
];

/** What the page reports for one backend. */
export interface BackendResult {
  pass: boolean;
  error?: string;
  maxError?: number;
  mode?: string;
  threads?: number;
  device?: string;
  /** tfjs: the .wasm file tf.js fetched. */
  wasm?: string;
}

export interface PageResult {
  /** By backend: cpu-wasm, webgpu, tfjs. */
  backends: Record<string, BackendResult>;
  crossOriginIsolated: boolean;
  /** Console errors, page errors and failed requests. */
  problems: string[];
}

/**
 * Opens `url` in a fresh context and waits for the page's window.__result. `missing` names files the bundler does
 * not ship (the package then uses its embedded copies): Chromium's console error for their 404 is expected.
 */
export async function openPage(browser: Browser, url: string, missing: string[] = []): Promise<PageResult> {
  const context = await browser.newContext();
  const problems: string[] = [];
  try {
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      const from = m.location().url;
      if (/status of 404/.test(m.text()) && missing.some((f) => from.endsWith(`/${f}`))) return;
      problems.push(`console.error: ${m.text()} (${from})`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    await page.goto(url);
    await page.waitForFunction(() => (globalThis as { __result?: unknown }).__result !== undefined, null, { timeout: 60_000, polling: 100 });
    const result = (await page.evaluate(() => ({
      backends: (globalThis as unknown as { __result: object }).__result,
      crossOriginIsolated: globalThis.crossOriginIsolated,
    }))) as Omit<PageResult, 'problems'>;
    return { ...result, problems };
  } finally {
    await context.close();
  }
}
