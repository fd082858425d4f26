import { execFileSync } from 'node:child_process';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyTfjsWasm, TFJS } from './tfjs-wasm.js';

const PAGE = join(import.meta.dirname, 'page');

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
  /**
   * false: the page turns off tf.js's threaded wasm build. tf.js starts its pthread workers from the source text of
   * a function in the bundle (`factory.toString()`); a minifier that renames what that function refers to outside
   * itself leaves the workers throwing `ReferenceError` and the page waiting forever.
   */
  tfjsThreads?: boolean;
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

/** The page's modules in src/ (`entry` imports main.js) and a fresh dist/. */
function sources(dir: string, entry = 'main.js', tfjsThreads = true): void {
  rmSync(join(dir, 'dist'), { recursive: true, force: true });
  rmSync(join(dir, 'src'), { recursive: true, force: true });
  cpSync(PAGE, join(dir, 'src'), { recursive: true });
  if (!tfjsThreads) writeFileSync(join(dir, 'src', 'tfjs-settings.js'), 'export const TFJS_THREADS = false;\n');
  if (entry !== 'main.js') writeFileSync(join(dir, 'src', entry), "import './main.js';\n");
}

const vite = (name: string, version: string, tfjsThreads = true): Consumer => ({
  name,
  deps: { vite: version, ...TFJS },
  tfjsThreads,
  build(dir) {
    sources(dir, 'main.js', tfjsThreads);
    // Vite serves public/ at the root (dev) and copies it into dist/ (build).
    rmSync(join(dir, 'public'), { recursive: true, force: true });
    copyTfjsWasm(dir, join(dir, 'public'));
    writeFileSync(join(dir, 'index.html'), html(MODULE_TAG('/src/main.js')));
    run(dir, 'vite', ['build']);
    return join(dir, 'dist');
  },
});

/** A bundler that writes dist/main.js from src/main.js; the page is a static index.html next to it. */
const scriptBundler = (
  name: string,
  deps: Record<string, string>,
  bin: string,
  args: string[],
  tag: string,
  entry = 'main.js',
  tfjsThreads = true,
): Consumer => ({
  name,
  deps: { ...deps, ...TFJS },
  tfjsThreads,
  build(dir) {
    sources(dir, entry, tfjsThreads);
    run(dir, bin, args);
    copyTfjsWasm(dir, join(dir, 'dist'));
    writeFileSync(join(dir, 'dist', 'index.html'), html(tag));
    return join(dir, 'dist');
  },
});

const NOT_SHIPPED = ['worker.js', 'kernel.wasm', 'kernel-st.wasm'];

export const CONSUMERS: Consumer[] = [
  // Vite 8's minifier (Oxc) and webpack's (Terser) break tf.js's threaded wasm build (tfjsThreads above).
  vite('vite8', '8.4.0', false),
  // webpack 5 without a configuration file: ./src/index.js → dist/main.js (a classic script), production mode.
  scriptBundler(
    'webpack5',
    { webpack: '5.113.0', 'webpack-cli': '7.3.1' },
    'webpack',
    ['--mode', 'production'],
    '<script src="main.js"></script>',
    'index.js',
    false,
  ),
  // esbuild's one setting: --format=esm, so the bundle keeps import.meta.url (the default iife has none). esbuild and
  // Rollup leave `new URL(…, import.meta.url)` alone, so the worker and the kernels come from the embedded copies.
  {
    ...scriptBundler('esbuild', { esbuild: '0.28.2' }, 'esbuild', ['src/main.js', '--bundle', '--format=esm', '--outdir=dist'], MODULE_TAG('main.js')),
    missing: NOT_SHIPPED,
  },
  // tf.js needs what any CommonJS-using dependency needs in Rollup: the commonjs plugin (tfjs-core requires long and
  // seedrandom), and node-resolve's browser field mapping (tfjs-backend-wasm maps fs, path and os to false there).
  {
    ...scriptBundler(
      'rollup4',
      { rollup: '4.68.9', '@rollup/plugin-node-resolve': '16.0.3', '@rollup/plugin-commonjs': '29.0.3' },
      'rollup',
      ['src/main.js', '--dir', 'dist', '--plugin', '@rollup/plugin-node-resolve={browser:true}', '--plugin', '@rollup/plugin-commonjs'],
      MODULE_TAG('main.js'),
    ),
    missing: NOT_SHIPPED,
  },
  vite('vite7', '7.3.8'),
  // No bundler: the installed node_modules served as they are, through an import map.
  {
    name: 'import-map',
    deps: TFJS,
    build(dir) {
      sources(dir);
      copyTfjsWasm(dir, dir);
      // tf.js's flat ESM builds: tfjs-core's is self-contained; the wasm backend's imports Node built-ins that it
      // only uses in Node, which the page maps to an empty module.
      writeFileSync(join(dir, 'src', 'empty.js'), 'export default {};\n');
      const empty = '/src/empty.js';
      const map = {
        imports: {
          '@sparse/core': '/node_modules/@sparse/core/dist/index.js',
          '@sparse/core/backend': '/node_modules/@sparse/core/dist/entry/backend.js',
          '@sparse/core/reference': '/node_modules/@sparse/core/dist/entry/reference.js',
          '@sparse/cpu-wasm': '/node_modules/@sparse/cpu-wasm/dist/browser.js',
          '@sparse/webgpu': '/node_modules/@sparse/webgpu/dist/index.js',
          '@sparse/tfjs': '/node_modules/@sparse/tfjs/dist/index.js',
          '@tensorflow/tfjs-core': '/node_modules/@tensorflow/tfjs-core/dist/tf-core.fesm.js',
          '@tensorflow/tfjs-backend-wasm': '/node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.fesm.js',
          fs: empty,
          path: empty,
          os: empty,
          perf_hooks: empty,
        },
      };
      writeFileSync(join(dir, 'index.html'), html(`<script type="importmap">${JSON.stringify(map)}</script>\n${MODULE_TAG('/src/main.js')}`));
      return dir;
    },
  },
];

/** The projects whose dev server the suite also runs. */
export const VITE_DEV = ['vite8', 'vite7'];
