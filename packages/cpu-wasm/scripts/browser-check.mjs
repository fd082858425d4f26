// Manual check of the browser path (module Web Workers over a shared memory, fetch of the .wasm): serves the
// workspace on 127.0.0.1 with cross-origin isolation headers, opens a page in headless Chromium that runs the
// backend (threads, then a page without isolation → the single-threaded fallback) against core's reference, and
// prints what the page reported. Usage: node scripts/browser-check.mjs [path-to-chromium]   (after `pnpm build`)
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = normalize(join(fileURLToPath(import.meta.url), '../../../..'));
const chromium = process.argv[2] ?? '/usr/bin/chromium';
const types = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.map': 'application/json' };

const page = (isolated) => `<!doctype html><meta charset="utf-8">
<script type="importmap">{ "imports": { "@sparse/core": "/packages/core/dist/index.js" } }</script>
<script type="module">
  const report = (r) => fetch('/result', { method: 'POST', body: JSON.stringify({ isolated: ${isolated}, ...r }) });
  try {
    const { cpuWasm } = await import('/packages/cpu-wasm/dist/index.js');
    const { referenceAttention } = await import('@sparse/core');
    const t = (seed, H, S, D) => ({ data: Float32Array.from({ length: 2 * H * S * D }, (_, i) => Math.sin(i * seed)), shape: [2, H, S, D] });
    const req = { q: t(1, 4, 70, 17), k: t(2, 2, 70, 17), v: t(3, 2, 70, 9), pattern: { kind: 'local', left: 9, right: 2 }, returnLse: true };
    const be = cpuWasm({ threads: 2 });
    const probe = await be.probe();
    const got = await be.attention(req);
    const ref = referenceAttention(req);
    let err = 0;
    for (let i = 0; i < ref.out.data.length; i++) err = Math.max(err, Math.abs(got.out.data[i] - ref.out.data[i]));
    const info = be.info();
    await be.dispose();
    await report({ crossOriginIsolated: self.crossOriginIsolated, probe, mode: info.mode, threads: info.threads, maxAbsErr: err });
  } catch (e) {
    await report({ error: String(e && e.stack || e) });
  }
</script>`;

const results = [];
const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/result') {
    let body = '';
    for await (const chunk of req) body += chunk;
    results.push(JSON.parse(body));
    res.end('ok');
    return;
  }
  const headers = url.searchParams.has('plain') ? {} : { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
  if (url.pathname === '/page.html') {
    res.writeHead(200, { 'Content-Type': 'text/html', ...headers });
    res.end(page(!url.searchParams.has('plain')));
    return;
  }
  const file = normalize(join(root, url.pathname));
  if (!file.startsWith(root)) return res.writeHead(403).end();
  try {
    const data = await readFile(file);
    res.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream', ...headers });
    res.end(data);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;

for (const query of ['', '?plain']) {
  const before = results.length;
  const child = spawn(chromium, ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', `http://127.0.0.1:${port}/page.html${query}`], {
    stdio: 'ignore',
  });
  const started = Date.now();
  while (results.length === before && Date.now() - started < 60_000) await new Promise((r) => setTimeout(r, 100));
  child.kill();
  console.log(JSON.stringify(results[before] ?? { error: `no report from the page${query} within 60 s` }));
}
server.close();
