import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => !!p && existsSync(p));

const FLAGS = [
  // navigator.gpu on SwiftShader, the software adapter, for @sparse/webgpu and tf.js's webgpu backend.
  '--enable-unsafe-webgpu',
  '--enable-unsafe-swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--enable-dawn-features=disable_workgroup_init',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--headless',
];
const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM!,
    args: FLAGS,
    headless: true,
    env: { ...process.env, ...(existsSync(ICD) ? { VK_ICD_FILENAMES: ICD } : {}) },
  });
}

/** Console errors and page errors of a page, for the test to fail on. */
export function watch(page: Page, problems: string[]): void {
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
}

/** Waits until the app has mounted, across the one reload the isolating service worker may cause. */
export async function ready(page: Page, timeout = 30_000): Promise<void> {
  const end = Date.now() + timeout;
  for (;;) {
    try {
      await page.waitForFunction(() => (globalThis as { __playground?: { ready?: boolean } }).__playground?.ready === true, null, {
        timeout: Math.max(1, end - Date.now()),
        polling: 50,
      });
      return;
    } catch (e) {
      // A navigation (the reload) destroys the context the wait ran in: wait again in the new one.
      if (Date.now() >= end || !/context was destroyed|navigat/i.test(String(e))) throw e;
    }
  }
}
