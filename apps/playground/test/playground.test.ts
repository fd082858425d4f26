import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AppState, DEFAULT_RUN, DEFAULT_VIEW, encodeHash } from '../src/state.js';
import { CHROMIUM, launch, ready, watch } from './browser.js';
import { type Served, serve } from './server.js';

/**
 * The built playground (dist/, made by `build` before `test`) served as a static host would, in headless Chromium.
 * In CI (CI=true) a missing browser or build fails; elsewhere the suite is skipped with a message.
 */
const APP = join(import.meta.dirname, '..');
const DIST = join(APP, 'dist');
const ARTIFACTS = join(APP, 'test-artifacts');

if (!CHROMIUM) {
  const message = '@sparse/playground: no Chromium found (install Debian/Ubuntu package `chromium`, or set CHROMIUM_PATH)';
  if (process.env.CI === 'true') throw new Error(`${message}; CI=true requires the browser tests: run tools/setup-system.sh`);
  console.warn(`${message}; browser tests skipped`);
}
if (CHROMIUM && !existsSync(join(DIST, 'index.html')))
  throw new Error('@sparse/playground: dist/ is missing; run `pnpm --filter @sparse/playground build` first');

type Rgb = [number, number, number];
interface Colours {
  allowed: Rgb;
  empty: Rgb;
}

interface Row {
  status: string;
  maxErr: number | null;
  text: string;
}

function state(patch: {
  json: string;
  preset?: string;
  params?: Record<string, string>;
  view?: Partial<AppState['view']>;
  run?: Partial<AppState['run']>;
}): AppState {
  const view = { ...DEFAULT_VIEW, grid: false, ...patch.view };
  return {
    heads: [{ preset: patch.preset ?? 'custom', params: patch.params ?? {}, json: patch.json }],
    head: 0,
    view: { ...view, cq: patch.view?.cq ?? view.sq / 2, ck: patch.view?.ck ?? view.sk / 2 },
    run: { ...DEFAULT_RUN, ...patch.run },
  };
}

const settle = (page: Page) => page.evaluate(() => new Promise<void>((ok) => requestAnimationFrame(() => requestAnimationFrame(() => ok()))));

async function colours(page: Page): Promise<Colours> {
  return page.evaluate(() => {
    const cs = getComputedStyle(document.getElementById('mask')!);
    const rgb = (v: string) => {
      let hex = cs.getPropertyValue(v).trim().replace(/^#/, '');
      if (hex.length === 3) hex = hex.replace(/./g, (x) => x + x);
      return [0, 2, 4].map((n) => parseInt(hex.slice(n, n + 2), 16)) as [number, number, number];
    };
    return { allowed: rgb('--mask-allowed'), empty: rgb('--mask-empty') };
  });
}

/** The canvas pixel at the centre of cell (query i, key j). */
async function cellColour(page: Page, i: number, j: number): Promise<Rgb> {
  return page.evaluate(
    ([i, j]) => {
      const pg = (globalThis as unknown as { __playground: { picture: { pixelOf(i: number, j: number): { x: number; y: number } } } }).__playground;
      const p = pg.picture.pixelOf(i!, j!);
      const canvas = document.getElementById('mask') as HTMLCanvasElement;
      const d = canvas.getContext('2d')!.getImageData(Math.floor(p.x), Math.floor(p.y), 1, 1).data;
      return [d[0]!, d[1]!, d[2]!] as [number, number, number];
    },
    [i, j],
  );
}

const close = (a: Rgb, b: Rgb) => a.every((x, n) => Math.abs(x - b[n]!) <= 2);

async function expectCell(page: Page, c: Colours, i: number, j: number, allowed: boolean): Promise<void> {
  const got = await cellColour(page, i, j);
  expect(close(got, allowed ? c.allowed : c.empty), `cell (${i}, ${j}) should be ${allowed ? 'allowed' : 'not allowed'}: got rgb(${got})`).toBe(true);
}

async function rows(page: Page): Promise<Record<string, Row>> {
  return page.evaluate(() => {
    const out: Record<string, { status: string; maxErr: number | null; text: string }> = {};
    for (const tr of document.querySelectorAll<HTMLTableRowElement>('#results tbody tr')) {
      const e = tr.dataset.maxErr;
      out[tr.id.replace('result-', '')] = { status: tr.dataset.status ?? '', maxErr: e ? Number(e) : null, text: tr.textContent ?? '' };
    }
    return out;
  });
}

async function run(page: Page, timeout = 60_000): Promise<Record<string, Row>> {
  const before = await page.evaluate(() => (globalThis as unknown as { __playground: { run: { runs: number } } }).__playground.run.runs);
  await page.click('#run-button');
  await page.waitForFunction((n) => (globalThis as unknown as { __playground: { run: { runs: number } } }).__playground.run.runs > n, before, {
    timeout,
    polling: 100,
  });
  return rows(page);
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

describe.skipIf(!CHROMIUM)('playground in headless Chromium', () => {
  let browser: Browser;
  let plain: Served;
  let isolated: Served;
  let context: BrowserContext;
  const problems: string[] = [];

  const open = async (url: string, options: { dark?: boolean } = {}) => {
    context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, colorScheme: options.dark ? 'dark' : 'light' });
    const page = await context.newPage();
    watch(page, problems);
    await page.goto(url);
    await ready(page);
    await settle(page);
    return page;
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    [browser, plain, isolated] = await Promise.all([launch(), serve(DIST, false), serve(DIST, true)]);
  });
  afterEach(async () => {
    await context?.close();
    const found = problems.splice(0);
    expect(found, found.join('\n')).toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([plain?.close(), isolated?.close()]);
  });

  it('edits a pattern both ways and shows core’s errors at their fields', async () => {
    const page = await open(isolated.url);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(await page.isHidden('#banner')).toBe(true);
    const json = () => page.inputValue('#pattern-json');
    for (const [preset, kind] of [
      ['longformer', 'union'],
      ['bigBird', 'randomBlocks'],
      ['neighborhood', 'neighborhood'],
      ['stFixed', 'intersect'],
      ['documents', 'documents'],
      ['topk', 'topk'],
    ]) {
      await page.selectOption('#preset', preset!);
      expect(await json(), preset).toContain(`"${kind}"`);
      expect(await page.isHidden('#pattern-json-error'), `${preset}: ${await page.textContent('#pattern-json-error')}`).toBe(true);
    }
    await page.selectOption('#preset', 'local');
    await page.fill('#pattern-json', '{"kind":"local","left":5,"right":2}');
    expect(await page.inputValue('#field-left')).toBe('5');
    expect(await page.inputValue('#field-right')).toBe('2');
    await page.fill('#pattern-json', '{"kind":"dilated","dilation":3,"left":4}');
    expect(await page.inputValue('#preset')).toBe('dilated');
    expect(await page.inputValue('#field-dilation')).toBe('3');
    await page.selectOption('#preset', 'local');
    await page.fill('#field-left', '7');
    expect(JSON.parse(await json())).toEqual({ kind: 'local', left: 7, right: 8 });
    await page.fill('#field-left', '-3');
    const error = await page.textContent('#field-left-error');
    expect(error).toContain('pattern.left');
    expect(await page.getAttribute('#field-left', 'aria-invalid')).toBe('true');
    await shot(page, 'editor-error');
    await page.fill('#field-left', '7');
    expect(await page.isHidden('#field-left-error')).toBe(true);
    await page.selectOption('#preset', 'longformer');
    await page.fill('#field-attentionWindow', '31');
    expect(await page.textContent('#field-attentionWindow-error')).toContain('longformer.attentionWindow');
    await page.selectOption('#preset', 'global');
    await page.fill('#field-tokens', '0, 999');
    expect(await page.textContent('#field-tokens-error')).toContain('pattern.tokens[1]');
    await page.fill('#pattern-json', '{"kind":"local",');
    expect(await page.textContent('#pattern-json-error')).toContain('not valid JSON');
  });

  it('draws allowed cells by pixel: a local window and the A…E atrous example', async () => {
    const R = 3;
    const page = await open(
      `${isolated.url}${encodeHash(state({ json: JSON.stringify({ kind: 'local', left: R, right: R }), preset: 'local', params: { left: '3', right: '3' }, view: { sq: 16, sk: 16 } }))}`,
    );
    const c = await colours(page);
    for (const i of [0, 5, 11]) {
      await expectCell(page, c, i, i, true);
      await expectCell(page, c, i, i + R, true);
      await expectCell(page, c, i, i + R + 1, false);
      if (i - R - 1 >= 0) await expectCell(page, c, i, i - R - 1, false);
    }
    await shot(page, 'local-16');
    await page.selectOption('#preset', 'atrousExample');
    await settle(page);
    expect(await page.inputValue('#view-sq')).toBe('5');
    const A = [true, false, true, false, true];
    for (let j = 0; j < 5; j++) await expectCell(page, c, 0, j, A[j]!);
    await expectCell(page, c, 1, 3, true);
    await expectCell(page, c, 1, 2, false);
    await page.hover('#mask', { position: { x: 5, y: 5 } });
    expect(await page.textContent('#readout')).toContain('query i = 0 (A), key j = 0 (A): allowed');
    await shot(page, 'atrous-example');
  });

  it('draws 131072 tokens from the block mask within a second per frame, zooms and pans', async () => {
    const page = await open(
      `${isolated.url}${encodeHash(
        state({
          json: JSON.stringify({
            kind: 'union',
            of: [
              { kind: 'local', left: 256, right: 256 },
              { kind: 'global', tokens: [0, 1, 2, 3] },
            ],
          }),
          view: { sq: 4096, sk: 4096, grid: true },
        }),
      )}`,
    );
    const frame = () =>
      page.evaluate(
        () => (globalThis as unknown as { __playground: { picture: { frameMs: number; compileMs: number; frames: number } } }).__playground.picture,
      );
    const t0 = Date.now();
    await page.click('#size-131072');
    await page.waitForFunction(() => (document.getElementById('view-sq') as HTMLInputElement).value === '131072');
    await settle(page);
    const wall = Date.now() - t0;
    const f = await frame();
    expect(f.frameMs, `frame ${f.frameMs} ms (compile ${f.compileMs} ms)`).toBeLessThan(1000);
    expect(wall).toBeLessThan(3000);
    expect(await page.textContent('#stat-density')).toContain('of 17,179,869,184 pairs');
    await shot(page, 'longformer-131072');
    // Zoom in around the top-left corner with the keyboard and buttons, then pan: each frame is timed again.
    await page.focus('#mask');
    for (let n = 0; n < 6; n++) await page.click('#zoom-in');
    await page.keyboard.press('ArrowRight');
    await settle(page);
    const zoomed = await frame();
    expect(zoomed.frameMs).toBeLessThan(1000);
    await page.keyboard.press('0');
    await page.evaluate(() => {
      const pg = (globalThis as unknown as { __playground: { store: { state: AppState; set(s: AppState, o: string): void } } }).__playground;
      pg.store.set({ ...pg.store.state, view: { ...pg.store.state.view, zoom: 2048, cq: 300, ck: 25 } }, 'view');
    });
    await settle(page);
    const c = await colours(page);
    expect((await frame()).frameMs).toBeLessThan(1000);
    await expectCell(page, c, 300, 0, true); // key 0 is a global token
    await expectCell(page, c, 300, 5, false);
    await expectCell(page, c, 300, 44, true); // the window's left edge
    await shot(page, 'longformer-131072-zoomed');
    const at = await page.evaluate(() =>
      (globalThis as unknown as { __playground: { picture: { pixelOf(i: number, j: number): { x: number; y: number } } } }).__playground.picture.pixelOf(
        300,
        0,
      ),
    );
    await page.hover('#mask', { position: at });
    expect(await page.textContent('#readout')).toContain('query i = 300, key j = 0: allowed — by of[1] global (global key)');
    const scale = await page.evaluate(
      () => (globalThis as unknown as { __playground: { picture: { viewport: { scale: number } } } }).__playground.picture.viewport.scale,
    );
    await page.hover('#mask', { position: { x: at.x + 50 * scale, y: at.y } });
    expect(await page.textContent('#readout')).toContain('query i = 300, key j = 50: allowed — by of[0] local{256, 256}');
    // A pattern whose mask would not fit (partial tiles everywhere below the diagonal) is refused, not compiled.
    const t1 = Date.now();
    await page.selectOption('#preset', 'stStrided');
    await settle(page);
    expect(Date.now() - t1).toBeLessThan(5000);
    expect(await page.textContent('#stat-error')).toContain('more than the picture allows');
  });

  const RUN = { b: 1, h: 2, hkv: 1, sq: 128, sk: 128, d: 32, dense: true };
  const LONGFORMER = JSON.stringify({
    kind: 'union',
    of: [
      { kind: 'local', left: 8, right: 8 },
      { kind: 'global', tokens: [0] },
    ],
  });

  it('runs on cpu-wasm workers, webgpu on SwiftShader, tf.js and the reference in an isolated page', async () => {
    const page = await open(
      `${isolated.url}${encodeHash(state({ json: LONGFORMER, run: { ...RUN, backends: ['cpu-wasm', 'webgpu', 'tfjs-webgpu', 'tfjs-wasm', 'tfjs-cpu', 'reference'] } }))}`,
    );
    const r = await run(page, 80_000);
    await shot(page, 'run-isolated');
    for (const id of ['cpu-wasm', 'webgpu', 'tfjs-webgpu', 'tfjs-wasm', 'tfjs-cpu', 'reference']) {
      expect(r[id]!.status, `${id}: ${r[id]!.text}`).toBe('done');
      expect(r[id]!.maxErr, id).toBeLessThan(1e-3);
    }
    expect(r['cpu-wasm']!.text).toMatch(/worker/i);
  }, 90_000);

  it('runs cpu-wasm inline with a banner when the page is not isolated', async () => {
    const page = await open(`${plain.url}?coi=off${encodeHash(state({ json: LONGFORMER, run: { ...RUN, backends: ['cpu-wasm', 'reference'] } }))}`, {
      dark: true,
    });
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
    expect(await page.textContent('#banner')).toContain('Not cross-origin isolated');
    const r = await run(page);
    expect(r['cpu-wasm']!.status, r['cpu-wasm']!.text).toBe('done');
    expect(r['cpu-wasm']!.maxErr).toBeLessThan(1e-3);
    expect(r['cpu-wasm']!.text).toMatch(/single-threaded|inline/i);
    await shot(page, 'run-not-isolated-dark');
  });

  it('isolates itself with its service worker on a host without headers', async () => {
    const page = await open(`${plain.url}${encodeHash(state({ json: LONGFORMER, run: { ...RUN, backends: ['cpu-wasm'] } }))}`);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(await page.isHidden('#banner')).toBe(true);
    const r = await run(page);
    expect(r['cpu-wasm']!.status, r['cpu-wasm']!.text).toBe('done');
    expect(r['cpu-wasm']!.text).toMatch(/worker/i);
  });

  it('restores a shared URL and copies runnable code', async () => {
    const page = await open(isolated.url);
    await page.selectOption('#preset', 'bigBird');
    await page.fill('#field-randomPerRow', '1');
    await page.click('#head-add');
    await page.selectOption('#preset', 'stStrided');
    await page.click('#size-4096');
    await page.click('#zoom-in');
    await page.fill('#run-sq', '256');
    await page.dispatchEvent('#run-sq', 'change');
    await page.fill('#run-sk', '256');
    await page.dispatchEvent('#run-sk', 'change');
    await page.uncheck('#backend-tfjs-cpu');
    await page.click('#share');
    const url = page.url();
    const want = await page.evaluate(() => (globalThis as unknown as { __playground: { store: { state: AppState } } }).__playground.store.state);
    const jsonText = await page.inputValue('#pattern-json');
    const other = await context.newPage();
    watch(other, problems);
    await other.goto(url);
    await ready(other);
    await settle(other);
    const got = await other.evaluate(() => (globalThis as unknown as { __playground: { store: { state: AppState } } }).__playground.store.state);
    expect(got).toEqual(want);
    expect(await other.inputValue('#pattern-json')).toBe(jsonText);
    expect(await other.inputValue('#head-select')).toBe('1');
    expect(await other.isChecked('#backend-tfjs-cpu')).toBe(false);
    await shot(other, 'shared-url');

    await other.selectOption('#code-backend', 'reference');
    await other.click('#copy-code');
    const code = await other.inputValue('#code');
    expect(code).toContain("import { reference } from '@sparse/core';");
    expect(code).toContain('"dilation": 16');
    // The snippet runs as it is, as a module resolved from the app's folder (its node_modules).
    const printed = execFileSync(process.execPath, ['--input-type=module'], { cwd: APP, input: code, encoding: 'utf8', timeout: 30_000 });
    expect(printed).toContain('[ 1, 2, 256, 64 ]');
  });
});
