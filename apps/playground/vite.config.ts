import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

/** tf.js's wasm backend fetches its .wasm files at run time from `tfjs-wasm/` (see src/backends.ts); no bundler ships them. */
const TFJS_WASM = fileURLToPath(new URL('./node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url));
const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

function tfjsWasmFiles(): Plugin {
  const files = () => readdirSync(TFJS_WASM).filter((f) => f.endsWith('.wasm'));
  return {
    name: 'playground-tfjs-wasm',
    generateBundle() {
      for (const f of files()) this.emitFile({ type: 'asset', fileName: `tfjs-wasm/${f}`, source: readFileSync(join(TFJS_WASM, f)) });
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const name = req.url?.match(/\/tfjs-wasm\/([\w.-]+\.wasm)$/)?.[1];
        if (!name || !files().includes(name)) return next();
        res.setHeader('content-type', 'application/wasm');
        res.end(readFileSync(join(TFJS_WASM, name)));
      });
    },
  };
}

export default defineConfig({
  // Relative URLs everywhere: dist/ works from any folder of any static host.
  base: './',
  plugins: [tfjsWasmFiles()],
  server: { headers: ISOLATION },
  preview: { headers: ISOLATION },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
});
