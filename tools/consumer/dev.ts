import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

/**
 * `vite` (the dev server) in `dir`, with a fresh dependency optimizer cache. Isolation needs the COOP/COEP headers,
 * which only a configuration gives a dev server: `server.headers`, and nothing else.
 */
export async function startViteDev(dir: string, isolated: boolean): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const args = ['--port', String(port), '--strictPort', '--host', '127.0.0.1', '--force'];
  if (isolated) {
    const config = join(dir, 'isolated.vite.config.js');
    const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
    writeFileSync(config, `export default { server: { headers: ${JSON.stringify(headers)} } };\n`);
    args.push('--config', config);
  }
  // NO_COLOR: with CI set, Vite's colours wrap the port in escape codes, and the log is matched as text.
  const env = { ...process.env, NO_COLOR: '1' };
  const child: ChildProcess = spawn(join(dir, 'node_modules', '.bin', 'vite'), args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  // Stops the server and waits for it: Vite refuses to start a second dev server for a project while one runs.
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
    await exited;
  };
  try {
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`vite dev did not start within 30 s:\n${log}`)), 30_000);
      const onData = (b: Buffer) => {
        log += b.toString();
        if (log.includes(`:${port}/`)) {
          clearTimeout(timer);
          ok();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.on('exit', (code) => fail(new Error(`vite dev exited with code ${code}:\n${log}`)));
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return { url: `http://127.0.0.1:${port}/`, stop };
}
