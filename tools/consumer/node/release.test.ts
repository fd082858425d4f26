import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PLATFORM_PACKAGE } from '../../registry/platform.js';
import '../../registry/provided.js';
import { REHEARSAL } from '../../registry/rehearse.js';
import { withEnv } from '../../registry/verdaccio.js';
import { publicPackages, run } from '../../registry/workspace.js';
import { npmProject, pnpmProject } from './install.js';
import { attw, download, hasModules, publint } from './lint.js';
import { brokenSourceMaps } from './sourcemaps.js';

/**
 * The release as it would go to the public registry, and the packages as a user gets them: the suite's globalSetup
 * (registry/global-setup.ts) has released a copy of the repository to a local Verdaccio (third-party packages come
 * from the public registry through it); fresh projects in the system's temp dir install `@sparse/*` from it with
 * npm and pnpm and use them from Node. The CUDA addon is built once per run (incrementally, in the checkout) for the
 * platform package; without nvcc that part is skipped with a message, and fails in CI.
 */
const addon = inject('addon');
if ('error' in addon) throw new Error(addon.error);
if ('skip' in addon) console.warn(`release and consumer suite: ${addon.skip}; ${PLATFORM_PACKAGE} is not published and its checks are skipped`);

const registry = withEnv(inject('registry'));
const { copy, versions, changesets: changesetFiles } = inject('rehearsal');
const before = new Map(publicPackages().map((p) => [p.name, p.version]));
const after = new Map(Object.entries(versions));
const changesets = new Map(Object.entries(changesetFiles));
const cleanup: string[] = [];

/** Runs `node args` in `cwd`; the process must end on its own within the timeout. */
function node(cwd: string, args: string[], env?: NodeJS.ProcessEnv) {
  const r = spawnSync(process.execPath, args, { cwd, env, encoding: 'utf8', timeout: 120_000 });
  if (r.error || r.signal) throw new Error(`node ${args.join(' ')} did not exit by itself (${r.error ?? r.signal}):\n${r.stdout}${r.stderr}`);
  return r;
}

afterAll(() => {
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
});

const published = () => [...after.keys()].filter((name) => 'binary' in addon || name !== PLATFORM_PACKAGE);
const spec = (names: string[]) => Object.fromEntries(names.map((n) => [n, after.get(n)!]));

describe('release', () => {
  it('changeset version bumps every public package and writes CHANGELOG.md from the changesets', () => {
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [name, version] of after) expect(version, name).not.toBe(before.get(name));
    for (const p of publicPackages(copy)) expect(readFileSync(join(copy, p.dir, 'CHANGELOG.md'), 'utf8'), p.name).toMatch(`## ${p.version}`);
    expect(after.get(PLATFORM_PACKAGE)).toBe(after.get('@sparse/cuda-native'));
    expect(changesets.get('release-rehearsal.md')).toContain(REHEARSAL);
    for (const [file, text] of changesets) {
      const [, front, body] = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text)!;
      const firstLine = body.trim().split('\n')[0]!;
      for (const [, name] of front.matchAll(/^["']?(@sparse\/[\w-]+)["']?:/gm)) {
        const pkg = publicPackages(copy).find((p) => p.name === name);
        if (!pkg) continue; // a private package
        expect(readFileSync(join(copy, pkg.dir, 'CHANGELOG.md'), 'utf8'), `${file} in ${name}'s CHANGELOG.md`).toContain(firstLine);
      }
    }
    // Consumed, except those about private packages only (changesets leaves those alone).
    const left = readdirSync(join(copy, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');
    for (const file of left)
      expect(readFileSync(join(copy, '.changeset', file), 'utf8'), file).not.toMatch(new RegExp([...after.keys()].map((n) => `"${n}"|'${n}'`).join('|')));
  });

  it('publishes every public package at its new version, workspace:* replaced by the versions', async () => {
    for (const name of published()) {
      const doc = (await (await fetch(`${registry.url}/${name.replace('/', '%2f')}`)).json()) as {
        'dist-tags': { latest: string };
        versions: Record<string, { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> }>;
      };
      expect(doc['dist-tags'].latest, name).toBe(after.get(name));
      const manifest = doc.versions[after.get(name)!]!;
      for (const [dep, range] of Object.entries({ ...manifest.dependencies, ...manifest.optionalDependencies })) {
        expect(range, `${name} → ${dep}`).not.toMatch(/^workspace:/);
        if (after.has(dep)) expect(range, `${name} → ${dep}`).toBe(after.get(dep));
      }
    }
  });

  it('publint --strict and attw (esm-only profile) pass on every published tarball, whose source maps carry their sources', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sparse-lint-'));
    cleanup.push(dir);
    const failures: string[] = [];
    for (const name of published()) {
      const { tgz, manifest } = await download(registry.url, name, after.get(name)!, dir);
      const lint = publint(tgz);
      if (!lint.ok) failures.push(`publint ${name}:\n${lint.output}`);
      const maps = brokenSourceMaps(tgz);
      if (maps.length) failures.push(`source maps of ${name}:\n${maps.slice(0, 5).join('\n')}${maps.length > 5 ? `\n… ${maps.length - 5} more` : ''}`);
      if (!hasModules(manifest)) continue; // the CLI (a bin) and the platform package (an addon): no module to type
      const types = attw(tgz, manifest);
      if (!types.ok) failures.push(`attw ${name}:\n${types.output}`);
    }
    expect(failures.join('\n\n')).toBe('');
  }, 240_000);
});

describe('an npm project using the published packages from Node', () => {
  let dir: string;
  beforeAll(() => {
    dir = npmProject(registry, 'npm', {
      ...spec(['@sparse/core', '@sparse/cpu-wasm', '@sparse/tfjs', '@sparse/webgpu', '@sparse/cuda-native', '@sparse/conformance', '@sparse/cli']),
      '@tensorflow/tfjs-core': '4.22.0',
      '@tensorflow/tfjs-backend-cpu': '4.22.0',
      '@tensorflow/tfjs-backend-wasm': '4.22.0',
      typescript: '5.9.3',
      '@types/node': '^20.11.0',
    });
    cleanup.push(dir);
  }, 300_000);

  it('runs attention on reference, cpu-wasm (threads and inline) and tfjs (cpu and wasm), matching float64, and exits', () => {
    const r = node(dir, ['attention.mjs', 'reference', 'cpu-wasm-threads', 'cpu-wasm-inline', 'tfjs-cpu', 'tfjs-wasm']);
    expect(r.status, r.stderr).toBe(0);
    for (const name of ['reference', 'cpu-wasm-threads', 'cpu-wasm-inline', 'tfjs-cpu', 'tfjs-wasm']) expect(r.stdout).toMatch(new RegExp(`^${name} ok`, 'm'));
  });

  it.each(['nodenext', 'bundler'])('type-checks with moduleResolution %s and "types": ["node"]', (mode) => {
    for (const config of [`tsconfig.${mode}.json`, `tsconfig.${mode}-tfjs.json`])
      run(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', config], { cwd: dir });
  });

  it('runs the sparse-conformance and sparse-attn CLIs of the installed packages', () => {
    const conformance = run('npx', ['sparse-conformance', '--backend', 'cpu-wasm', '--filter', 'local'], { cwd: dir, env: registry.env });
    expect(conformance).toMatch(/^[1-9]\d* passed, 0 failed$/m);
    const backends = run('npx', ['sparse-attn', 'backends'], { cwd: dir, env: registry.env });
    expect(backends).toMatch(/^cpu-wasm +available/m);
    expect(backends).toMatch(/^tfjs +available/m);
    for (const name of ['webgpu', 'cuda-native', 'reference']) expect(backends).toMatch(new RegExp(`^${name} `, 'm'));
    if ('binary' in addon) expect(backends).toMatch(/^cuda-native +(available|unavailable +(cuda-native: )?no CUDA device)/m);
  });

  it.skipIf('skip' in addon)(`loads the addon of ${PLATFORM_PACKAGE}: the probe says "no CUDA device", not "not built"`, () => {
    expect(existsSync(join(dir, 'node_modules', PLATFORM_PACKAGE, 'sparse_cuda.node'))).toBe(true);
    expect(existsSync(join(dir, 'node_modules', '@sparse', 'cuda-native', 'build'))).toBe(false);
    const r = node(dir, ['cuda.mjs']);
    expect(r.status, r.stderr).toBe(0);
    const probe = JSON.parse(r.stdout) as { available: boolean; reason?: string };
    expect(probe.reason).not.toMatch(/not built/);
    if (!probe.available) expect(probe.reason).toMatch(/no CUDA device/);
    const build = run('npx', ['sparse-cuda-build'], { cwd: dir, env: { ...registry.env, SPARSE_CUDA_SKIP_NATIVE: '1' } });
    expect(build).toMatch(/native addon NOT built: SPARSE_CUDA_SKIP_NATIVE=1/);
  });
});

describe('a pnpm project using the published packages from Node', () => {
  it('installs with pnpm and runs attention on reference, cpu-wasm and tfjs; idle workers let Node exit', () => {
    const dir = pnpmProject(registry, 'pnpm', {
      ...spec(['@sparse/core', '@sparse/cpu-wasm', '@sparse/tfjs']),
      '@tensorflow/tfjs-core': '4.22.0',
      '@tensorflow/tfjs-backend-cpu': '4.22.0',
    });
    cleanup.push(dir);
    const r = node(dir, ['attention.mjs', 'reference', 'cpu-wasm-threads', 'cpu-wasm-inline', 'tfjs-cpu']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.match(/ ok /g)).toHaveLength(4);
    // Idle worker threads must not keep Node alive when the user never disposes the backend.
    const idle = node(dir, ['attention.mjs', 'cpu-wasm-threads', '--no-dispose']);
    expect(idle.status, idle.stderr).toBe(0);
    expect(idle.stdout).toMatch(/^cpu-wasm-threads ok/m);
  }, 300_000);
});
