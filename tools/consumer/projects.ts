import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PAGE = join(import.meta.dirname, 'page', 'main.js');

const html = (script: string) => `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>consumer</title></head><body>
${script}
</body></html>
`;
const MODULE_TAG = (src: string) => `<script type="module" src="${src}"></script>`;

/** One way a user builds the page: the npm packages it needs, and how it turns the project into a served folder. */
export interface Consumer {
  name: string;
  deps: Record<string, string>;
  /** Package files this bundler does not ship (the package falls back to its embedded copies). */
  missing?: string[];
  /** Writes the sources, builds with the bundler's default configuration, returns the folder to serve. */
  build(dir: string): string;
}

function run(dir: string, bin: string, args: string[]): void {
  try {
    execFileSync(join(dir, 'node_modules', '.bin', bin), args, { cwd: dir, stdio: 'pipe', timeout: 120_000 });
  } catch (e) {
    const err = e as { stdout?: Buffer; stderr?: Buffer; message: string };
    throw new Error(`${bin} ${args.join(' ')} failed in ${dir}:\n${err.stdout?.toString() ?? ''}${err.stderr?.toString() ?? err.message}`);
  }
}

/** The page script as src/<entry> and a fresh dist/. */
function sources(dir: string, entry = 'main.js'): void {
  rmSync(join(dir, 'dist'), { recursive: true, force: true });
  rmSync(join(dir, 'src'), { recursive: true, force: true });
  mkdirSync(join(dir, 'src'), { recursive: true });
  cpSync(PAGE, join(dir, 'src', entry));
}

const vite = (name: string, version: string): Consumer => ({
  name,
  deps: { vite: version },
  build(dir) {
    sources(dir);
    writeFileSync(join(dir, 'index.html'), html(MODULE_TAG('/src/main.js')));
    run(dir, 'vite', ['build']);
    return join(dir, 'dist');
  },
});

/** A bundler that writes dist/main.js from src/main.js; the page is a static index.html next to it. */
const scriptBundler = (name: string, deps: Record<string, string>, bin: string, args: string[], tag: string, entry = 'main.js'): Consumer => ({
  name,
  deps,
  build(dir) {
    sources(dir, entry);
    run(dir, bin, args);
    writeFileSync(join(dir, 'dist', 'index.html'), html(tag));
    return join(dir, 'dist');
  },
});

const NOT_SHIPPED = ['worker.js', 'kernel.wasm', 'kernel-st.wasm'];

export const CONSUMERS: Consumer[] = [
  vite('vite8', '8.4.0'),
  // webpack 5 without a configuration file: ./src/index.js → dist/main.js (a classic script), production mode.
  scriptBundler('webpack5', { webpack: '5.113.0', 'webpack-cli': '7.3.1' }, 'webpack', ['--mode', 'production'], '<script src="main.js"></script>', 'index.js'),
  // esbuild's one setting: --format=esm, so the bundle keeps import.meta.url (the default iife has none). esbuild and
  // Rollup leave `new URL(…, import.meta.url)` alone, so the worker and the kernels come from the embedded copies.
  {
    ...scriptBundler('esbuild', { esbuild: '0.28.2' }, 'esbuild', ['src/main.js', '--bundle', '--format=esm', '--outdir=dist'], MODULE_TAG('main.js')),
    missing: NOT_SHIPPED,
  },
  {
    ...scriptBundler(
      'rollup4',
      { rollup: '4.68.9', '@rollup/plugin-node-resolve': '16.0.3' },
      'rollup',
      ['src/main.js', '--dir', 'dist', '--plugin', '@rollup/plugin-node-resolve'],
      MODULE_TAG('main.js'),
    ),
    missing: NOT_SHIPPED,
  },
  vite('vite7', '7.3.8'),
  // No bundler: the installed node_modules served as they are, through an import map.
  {
    name: 'import-map',
    deps: {},
    build(dir) {
      sources(dir);
      const map = {
        imports: {
          '@sparse/core': '/node_modules/@sparse/core/dist/index.js',
          '@sparse/cpu-wasm': '/node_modules/@sparse/cpu-wasm/dist/browser.js',
        },
      };
      writeFileSync(join(dir, 'index.html'), html(`<script type="importmap">${JSON.stringify(map)}</script>\n${MODULE_TAG('/src/main.js')}`));
      return dir;
    },
  },
];

/** The projects whose dev server the suite also runs. */
export const VITE_DEV = ['vite8', 'vite7'];
