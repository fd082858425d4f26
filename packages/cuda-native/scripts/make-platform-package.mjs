#!/usr/bin/env node
// Wraps the built addon into a per-platform npm package, as onnxruntime-node and node-llama-cpp ship theirs:
// @sparse/cuda-native-<os>-<cpu>-<libc> with `os`, `cpu` and `libc` fields, so that npm installs only the one
// matching the user's machine when the main package lists them all under optionalDependencies. The loader
// (src/loader.ts) resolves `@sparse/cuda-native-<tag>/sparse_cuda.node` before falling back to a local build.
//
//   node scripts/make-platform-package.mjs [--out DIR] [--pack]
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const outIdx = argv.indexOf('--out');
const binary = join(pkgDir, 'build', 'Release', 'sparse_cuda.node');
if (!existsSync(binary)) {
  console.error(`make-platform-package: ${binary} is missing; build it first (pnpm --filter @sparse/cuda-native build:native)`);
  process.exit(1);
}

const main = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const report = process.report?.getReport();
const libc = process.platform === 'linux' ? (report?.header?.glibcVersionRuntime ? 'glibc' : 'musl') : null;
const tag = `${process.platform}-${process.arch}${libc ? `-${libc === 'glibc' ? 'gnu' : 'musl'}` : ''}`;
const name = `${main.name}-${tag}`;
const out = resolve(pkgDir, outIdx >= 0 ? argv[outIdx + 1] : join('build', 'npm', name.replace('@sparse/', '')));

// The newest glibc symbol version the binary needs: the oldest distribution it runs on.
const bytes = readFileSync(binary).toString('latin1');
const glibc = [...new Set(bytes.match(/GLIBC_2\.\d+(\.\d+)?/g) ?? [])].sort((a, b) => {
  const pa = a.slice(6).split('.').map(Number);
  const pb = b.slice(6).split('.').map(Number);
  return pa[0] - pb[0] || pa[1] - pb[1] || (pa[2] ?? 0) - (pb[2] ?? 0);
});
const status = existsSync(join(pkgDir, 'build', 'native-status.json')) ? JSON.parse(readFileSync(join(pkgDir, 'build', 'native-status.json'), 'utf8')) : {};
const buildInfo = { archs: status.archs, nvcc: status.nvcc, cudart: 'static', minGlibc: glibc.at(-1)?.replace('GLIBC_', '') ?? null, date: status.date };

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
copyFileSync(binary, join(out, 'sparse_cuda.node'));
writeFileSync(join(out, 'build-info.json'), `${JSON.stringify(buildInfo, null, 2)}\n`);
const pkg = {
  name,
  version: main.version,
  description: `Prebuilt CUDA addon of ${main.name} for ${tag} (sm_${(status.archs ?? []).join(', sm_')} + PTX, static CUDA runtime)`,
  license: main.license,
  os: [process.platform],
  cpu: [process.arch],
  ...(libc ? { libc: [libc] } : {}),
  main: 'sparse_cuda.node',
  files: ['sparse_cuda.node', 'build-info.json', 'README.md'],
  engines: { node: '>=20' },
};
writeFileSync(join(out, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
writeFileSync(
  join(out, 'README.md'),
  `# ${name}\n\nThe prebuilt Node-API addon of [${main.name}](../cuda-native) for ${tag}: CUDA kernels for ` +
    `sm_${(status.archs ?? []).join(', sm_')} plus PTX, the CUDA runtime linked statically (it loads without a driver; ` +
    `the backend's probe then says why it cannot run). Needs glibc ${buildInfo.minGlibc ?? '?'} or newer and an NVIDIA driver ` +
    `for CUDA ${String(status.nvcc ?? '').replace(/.*cuda_([\d.]+).*/, '$1')} or newer. Install ${main.name}; npm picks this package by its os/cpu/libc fields.\n`,
);
console.log(`make-platform-package: ${out}\n  ${JSON.stringify({ name, os: pkg.os, cpu: pkg.cpu, libc: pkg.libc, minGlibc: buildInfo.minGlibc })}`);
console.log(`  publish it, then list it in ${main.name}'s optionalDependencies: "${name}": "${main.version}"`);
if (argv.includes('--pack')) {
  const tgz = execFileSync('npm', ['pack', '--silent'], { cwd: out, encoding: 'utf8' }).trim();
  console.log(`  packed ${join(out, tgz)}`);
}
