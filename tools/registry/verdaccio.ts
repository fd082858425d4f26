import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verdaccioConfig } from './config.js';

/** What test files are handed of the registry (plain data, so it passes from a vitest globalSetup to them). */
export interface RegistryInfo {
  url: string;
  /** A `.npmrc` with this registry for the @sparse scope and an `_authToken` for it: pass as npm_config_userconfig. */
  npmrc: string;
  dir: string;
}

export interface Registry extends RegistryInfo {
  /** Environment for npm / pnpm / npx children: this registry, this .npmrc, a cache of this run. */
  env: NodeJS.ProcessEnv;
}

export interface LocalRegistry extends Registry {
  stop(): Promise<void>;
}

export function withEnv(info: RegistryInfo): Registry {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    npm_config_userconfig: info.npmrc,
    npm_config_cache: join(info.dir, 'npm-cache'),
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
  return { ...info, env };
}

function waitForPort(child: ChildProcess, log: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`verdaccio did not start in 60 s:\n${log()}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d;
      const m = /\{"port":(\d+)\}/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`verdaccio exited with ${code}:\n${log()}`));
    });
  });
}

async function addUser(url: string): Promise<string> {
  const name = 'sparse-release';
  const res = await fetch(`${url}/-/user/org.couchdb.user:${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password: 'local-only-password', type: 'user', roles: [] }),
  });
  const body = (await res.json()) as { token?: string };
  if (!res.ok || !body.token) throw new Error(`verdaccio refused the user (${res.status}): ${JSON.stringify(body)}`);
  return body.token;
}

/** Starts Verdaccio in a child process with its storage, config and npm cache in a fresh temp dir. */
export async function startRegistry(): Promise<LocalRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'sparse-registry-'));
  const config = join(dir, 'config.yaml');
  writeFileSync(config, verdaccioConfig(dir));
  const child = spawn(process.execPath, [join(import.meta.dirname, 'serve.mjs'), config], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  child.channel?.unref();
  let log = '';
  child.stderr!.on('data', (d: Buffer) => {
    log = (log + d).slice(-8000);
  });
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const port = await waitForPort(child, () => log);
    const url = `http://127.0.0.1:${port}`;
    const token = await addUser(url);
    const npmrc = join(dir, '.npmrc');
    // Only @sparse/* resolves here; every other package (npx's pnpm included) comes from the public registry as in
    // any user's project, so a slow proxied lookup of a large third-party packument cannot fail the run.
    writeFileSync(npmrc, `@sparse:registry=${url}/\n//127.0.0.1:${port}/:_authToken=${token}\n`);
    return { ...withEnv({ url, npmrc, dir }), stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
