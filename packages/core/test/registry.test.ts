import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isModulePath, KNOWN_BACKENDS, loadBackend, type ModuleImporter, probeKnownBackends } from '../src/entry/registry.js';
import { isSparseAttentionError, type SparseAttentionError } from '../src/index.js';

async function rejection(p: Promise<unknown>): Promise<SparseAttentionError> {
  const e = await p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (x: unknown) => x,
  );
  expect(isSparseAttentionError(e), String(e)).toBe(true);
  return e as SparseAttentionError;
}

/** A third-party backend module in a temp dir (it needs nothing from the project). */
function moduleFile(name: string, body: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sparse-registry-'));
  const file = join(dir, name);
  writeFileSync(file, body);
  return file;
}

const FAKE = `({ name: 'fake', probe: async () => ({ available: true, device: 'none' }), supports: () => true,
  attention: async () => { throw new Error('not here'); }, tolerance: () => ({ atol: 0, rtol: 0, lseAtol: 0 }), lastRun: () => null,
  dispose: async () => undefined })`;

describe('the backend registry', () => {
  it('lists the backends the project ships, each with its package and factory', () => {
    expect(KNOWN_BACKENDS.map((k) => k.name)).toEqual(['reference', 'cpu-wasm', 'webgpu', 'cuda-native', 'tfjs']);
    for (const k of KNOWN_BACKENDS) {
      expect(k.module).toMatch(/^@sparse\//);
      expect(k.summary.length).toBeGreaterThan(10);
    }
  });

  it('loads reference from core itself, with the factory options', async () => {
    const b = await loadBackend('reference');
    expect(b.name).toBe('reference');
    expect((await b.probe()).available).toBe(true);
    await b.dispose();
    const bad = loadBackend('reference', { factoryOptions: { tiles: { blockQ: 0 } } });
    expect((await rejection(bad)).field).toBe('tiles.blockQ');
  });

  it('imports a known backend through the caller importer, and says how to install a missing one', async () => {
    const asked: string[] = [];
    const missing: ModuleImporter = async (s) => {
      asked.push(s);
      throw Object.assign(new Error(`Cannot find package '${s}'`), { code: 'ERR_MODULE_NOT_FOUND' });
    };
    const e = await rejection(loadBackend('cpu-wasm', { importer: missing }));
    expect(asked).toEqual(['@sparse/cpu-wasm']);
    expect(e.code).toBe('BACKEND_UNAVAILABLE');
    expect(e.field).toBe('backend');
    expect(e.message).toBe('backend "cpu-wasm": the package @sparse/cpu-wasm is not installed (npm install @sparse/cpu-wasm)');
    const made: unknown[] = [];
    const present: ModuleImporter = async () => ({
      cpuWasm: (o: unknown) => {
        made.push(o);
        return new Function(`return ${FAKE}`)();
      },
    });
    const b = await loadBackend('cpu-wasm', { importer: present, factoryOptions: { threads: 2 } });
    expect(b.name).toBe('fake');
    expect(made).toEqual([{ threads: 2 }]);
    const none = await rejection(loadBackend('webgpu', { importer: async () => ({}) }));
    expect(none.message).toMatch(/exports no backend factory \(webgpu\)/);
  });

  it('loads a module by file path: a default factory, a createBackend, a Backend itself', async () => {
    const byDefault = moduleFile('a.mjs', `export default (o) => ({ ...${FAKE}, name: 'a:' + JSON.stringify(o ?? null) });\n`);
    expect((await loadBackend(byDefault, { factoryOptions: { x: 1 } })).name).toBe('a:{"x":1}');
    const create = moduleFile('b.mjs', `export const createBackend = () => ${FAKE};\n`);
    expect((await loadBackend(create)).name).toBe('fake');
    const direct = moduleFile('c.mjs', `export default ${FAKE};\n`);
    expect((await loadBackend(direct)).name).toBe('fake');
    // relative to the working directory
    const rel = relative(process.cwd(), direct);
    expect((await loadBackend(rel.startsWith('.') ? rel : `./${rel}`)).name).toBe('fake');
  });

  it('refuses a module that is not a backend, and a spec it cannot import, with BACKEND_UNAVAILABLE', async () => {
    const notFactory = moduleFile('d.mjs', 'export default 42;\n');
    expect((await rejection(loadBackend(notFactory))).message).toMatch(/exports no backend factory \(default or createBackend\)/);
    const wrong = moduleFile('e.mjs', 'export default () => ({ name: 1 });\n');
    expect((await rejection(loadBackend(wrong))).message).toMatch(/the factory did not return a Backend/);
    const nope = await rejection(loadBackend('sparse-backend-that-does-not-exist'));
    expect(nope.code).toBe('BACKEND_UNAVAILABLE');
    expect(nope.message).toMatch(/^backend "sparse-backend-that-does-not-exist": cannot import sparse-backend-that-does-not-exist/);
    expect((await rejection(loadBackend('./missing-file.mjs'))).message).toMatch(/cannot import file:/);
  });

  it('probes every known backend; one that cannot be loaded says why', async () => {
    const importer: ModuleImporter = async (s) => {
      throw Object.assign(new Error(`Cannot find package '${s}'`), { code: 'ERR_MODULE_NOT_FOUND' });
    };
    const reports = await probeKnownBackends(importer);
    expect(reports.map((r) => r.name)).toEqual(KNOWN_BACKENDS.map((k) => k.name));
    expect(reports[0]).toMatchObject({ name: 'reference', module: '@sparse/core', available: true });
    expect(reports[1]).toMatchObject({ available: false, reason: 'the package @sparse/cpu-wasm is not installed (npm install @sparse/cpu-wasm)' });
  });

  it('tells file paths from package names', () => {
    for (const p of ['./x.js', '../y', '/abs/z', 'file.mjs', 'C:\\b\\c.js', 'D:/e']) expect(isModulePath(p), p).toBe(true);
    for (const p of ['@sparse/cpu-wasm', 'my-backend', 'pkg/sub']) expect(isModulePath(p), p).toBe(false);
  });

  it('is browser-safe: no Node built-in is imported up front', () => {
    for (const f of ['../src/registry.ts', '../src/entry/registry.ts']) {
      const text = readFileSync(new URL(f, import.meta.url), 'utf8');
      expect(text, f).not.toMatch(/^\s*import[^;(]*['"]node:/m);
      expect(text, f).not.toMatch(/from ['"](node:|fs|path|url)/);
    }
  });
});
