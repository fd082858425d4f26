#!/usr/bin/env node
// Stages the built addon into its per-platform package, packages/cuda-native-<os>-<cpu>-<libc> (the way
// onnxruntime-node, sharp and esbuild ship their binaries): that package has `os`, `cpu` and `libc` fields, and
// @sparse/cuda-native lists it under optionalDependencies, so npm installs only the one matching the user's
// machine. The loader (src/loader.ts) resolves `@sparse/cuda-native-<tag>/sparse_cuda.node` after a local build.
//
//   node scripts/make-platform-package.mjs [--binary FILE]   copy the addon and write build-info.json
//   node scripts/make-platform-package.mjs --check            (the platform package's prepack) refuse to pack
//                                                             a platform package without its binary
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const BINARY = 'sparse_cuda.node';
const argv = process.argv.slice(2);

if (argv.includes('--check')) {
  const dir = process.cwd();
  for (const f of [BINARY, 'build-info.json']) {
    if (!existsSync(join(dir, f))) {
      console.error(`${dir}/${f} is missing: build the addon and stage it first (node packages/cuda-native/scripts/make-platform-package.mjs)`);
      process.exit(1);
    }
  }
  process.exit(0);
}

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const binIdx = argv.indexOf('--binary');
const binary = binIdx >= 0 ? resolve(argv[binIdx + 1]) : join(pkgDir, 'build', 'Release', BINARY);
if (!existsSync(binary)) {
  console.error(`make-platform-package: ${binary} is missing; build it first (node scripts/build-native.mjs)`);
  process.exit(1);
}

const report = process.report?.getReport();
const libc = process.platform === 'linux' ? (report?.header?.glibcVersionRuntime ? 'glibc' : 'musl') : null;
const tag = `${process.platform}-${process.arch}${libc ? `-${libc === 'glibc' ? 'gnu' : 'musl'}` : ''}`;
const out = resolve(pkgDir, '..', `cuda-native-${tag}`);
if (!existsSync(join(out, 'package.json'))) {
  console.error(`make-platform-package: there is no platform package for ${tag} (${out}/package.json)`);
  process.exit(1);
}
const pkg = JSON.parse(readFileSync(join(out, 'package.json'), 'utf8'));

// The newest glibc symbol version the binary needs: the oldest distribution it runs on.
const bytes = readFileSync(binary).toString('latin1');
const glibc = [...new Set(bytes.match(/GLIBC_2\.\d+(\.\d+)?/g) ?? [])].sort((a, b) => {
  const pa = a.slice(6).split('.').map(Number);
  const pb = b.slice(6).split('.').map(Number);
  return pa[0] - pb[0] || pa[1] - pb[1] || (pa[2] ?? 0) - (pb[2] ?? 0);
});
const statusFile = join(dirname(dirname(binary)), 'native-status.json');
const status = existsSync(statusFile) ? JSON.parse(readFileSync(statusFile, 'utf8')) : {};
const buildInfo = { archs: status.archs, nvcc: status.nvcc, cudart: 'static', minGlibc: glibc.at(-1)?.replace('GLIBC_', '') ?? null };

copyFileSync(binary, join(out, BINARY));
writeFileSync(join(out, 'build-info.json'), `${JSON.stringify(buildInfo, null, 2)}\n`);
console.log(`make-platform-package: ${pkg.name}@${pkg.version} in ${out}\n  ${JSON.stringify(buildInfo)}`);
