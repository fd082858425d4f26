#!/usr/bin/env node
// Prepares build/device/: everything the device check needs on a GPU machine that has no Node install and no
// registry access. Copy that one folder (it is ignored by git) to the GPU machine and run its device-check.sh:
//
//   node scripts/device-bundle.mjs [DIR]      (after building core, conformance, cuda-native and webgpu)
//   bash build/device/device-check.sh         (on the GPU machine)
//
// Contents: node.xz (this machine's node binary, xz-compressed; the check runs with it, never another node), the
// Node-API and node-addon-api headers, a node_modules/@sparse tree with core, conformance (with its fixtures) and
// cuda-native (dist, native sources, scripts, and the addon built here as a fallback in prebuilt/), and, when
// @sparse/webgpu is built, webgpu/: its device check, Dawn (dawn.node.xz), the Vulkan loader and EGL libraries
// as Debian packages unpacked (the GPU machine may lack them) and run.sh, which finds the NVIDIA Vulkan driver.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const packagesDir = resolve(pkgDir, '..');
const out = resolve(pkgDir, process.argv[2] ?? 'build/device');
const req = createRequire(join(pkgDir, 'package.json'));

function need(path, hint) {
  if (!existsSync(path)) {
    console.error(`device-bundle: ${path} is missing (${hint})`);
    process.exit(1);
  }
  return path;
}

function copyPackage(name, dir, parts) {
  const dest = join(out, 'node_modules', '@sparse', name);
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  for (const part of parts) {
    const src = join(dir, part);
    if (!existsSync(src)) continue;
    cpSync(src, join(dest, part), { recursive: true });
  }
  return dest;
}

mkdirSync(out, { recursive: true });

// 1. node, compressed once per binary (xz -dc or Python's lzma unpack it there).
const nodeBin = process.execPath;
const nodeStat = statSync(nodeBin);
const nodeKey = `${nodeBin} ${nodeStat.size} ${nodeStat.mtimeMs} ${process.version}`;
const nodeXz = join(out, 'node.xz');
const nodeKeyFile = join(out, 'node.xz.key');
if (!existsSync(nodeXz) || !existsSync(nodeKeyFile) || readFileSync(nodeKeyFile, 'utf8') !== nodeKey) {
  console.log(`device-bundle: compressing ${nodeBin} (${process.version}) to node.xz …`);
  execFileSync('sh', ['-c', `xz -T2 -6 -c "${nodeBin}" > "${nodeXz}.tmp" && mv "${nodeXz}.tmp" "${nodeXz}"`], { stdio: 'inherit' });
  writeFileSync(nodeKeyFile, nodeKey);
}

// 2. headers for building the addon there.
const napiInclude = join(dirname(req.resolve('node-api-headers/package.json')), 'include');
const addonApi = dirname(req.resolve('node-addon-api/package.json'));
mkdirSync(join(out, 'include', 'node-api'), { recursive: true });
mkdirSync(join(out, 'include', 'node-addon-api'), { recursive: true });
for (const f of ['js_native_api.h', 'js_native_api_types.h', 'node_api.h', 'node_api_types.h'])
  copyFileSync(join(napiInclude, f), join(out, 'include', 'node-api', f));
for (const f of ['napi.h', 'napi-inl.h', 'napi-inl.deprecated.h']) copyFileSync(join(addonApi, f), join(out, 'include', 'node-addon-api', f));

// 3. the packages (built dists).
need(join(packagesDir, 'core', 'dist', 'index.js'), 'build @sparse/core first');
need(join(packagesDir, 'conformance', 'dist', 'index.js'), 'build @sparse/conformance first');
need(join(pkgDir, 'dist', 'index.js'), 'build @sparse/cuda-native first (tsc)');
copyPackage('core', join(packagesDir, 'core'), ['package.json', 'dist']);
copyPackage('conformance', join(packagesDir, 'conformance'), ['package.json', 'dist', 'fixtures']);
const cn = copyPackage('cuda-native', pkgDir, ['package.json', 'dist', 'native', 'scripts', 'README.md']);
const built = join(pkgDir, 'build', 'Release', 'sparse_cuda.node');
if (existsSync(built)) {
  mkdirSync(join(cn, 'prebuilt'), { recursive: true });
  copyFileSync(built, join(cn, 'prebuilt', 'sparse_cuda.node'));
}
copyFileSync(join(pkgDir, 'scripts', 'device-check.sh'), join(out, 'device-check.sh'));

// 4. webgpu, for the same check: the package, Dawn, and the system libraries Dawn's Vulkan backend loads.
const webgpuDir = join(packagesDir, 'webgpu');
rmSync(join(out, 'webgpu'), { recursive: true, force: true });
rmSync(join(out, 'node_modules', 'webgpu'), { recursive: true, force: true });
if (existsSync(join(webgpuDir, 'dist', 'index.js'))) bundleWebgpu();
else console.log('device-bundle: @sparse/webgpu is not built; the bundle checks cuda-native only');

function bundleWebgpu() {
  copyPackage('webgpu', webgpuDir, ['package.json', 'dist', 'bench']);
  const dawnPkg = dirname(createRequire(join(webgpuDir, 'package.json')).resolve('webgpu/package.json'));
  const dawnDest = join(out, 'node_modules', 'webgpu');
  mkdirSync(join(dawnDest, 'dist', 'linux-x64'), { recursive: true });
  for (const f of readdirSync(dawnPkg))
    if (f !== 'dist' && f !== 'build' && f !== 'node_modules') cpSync(join(dawnPkg, f), join(dawnDest, f), { recursive: true });
  const wg = join(out, 'webgpu');
  mkdirSync(join(wg, 'debs'), { recursive: true });
  execFileSync('sh', ['-c', `xz -T2 -6 -c "${join(dawnPkg, 'dist', 'linux-x64', 'dawn.node')}" > "${join(wg, 'dawn.node.xz')}"`], { stdio: 'inherit' });
  // libvulkan1: the Vulkan loader; libegl1 + libglvnd0: EGL's dispatch library, which the NVIDIA driver plugs into.
  const debs = ['libvulkan1', 'libegl1', 'libglvnd0'];
  try {
    execFileSync('apt-get', ['download', ...debs], { cwd: join(wg, 'debs'), stdio: 'inherit' });
    for (const deb of readdirSync(join(wg, 'debs'))) execFileSync('dpkg-deb', ['-x', join(wg, 'debs', deb), join(wg, 'sysroot')]);
    rmSync(join(wg, 'debs'), { recursive: true, force: true });
  } catch (e) {
    console.log(
      `device-bundle: could not fetch ${debs.join(', ')} (${e.message.split('\n')[0]}); run apt-get update first. The check then relies on the GPU machine's own libraries`,
    );
  }
  copyFileSync(join(pkgDir, 'scripts', 'device-webgpu.sh'), join(wg, 'run.sh'));
}

const size = execFileSync('du', ['-sh', out], { encoding: 'utf8' }).split('\t')[0];
console.log(`device-bundle: ${out} ready (${size}). On the GPU machine: bash ${join(out, 'device-check.sh')}`);
