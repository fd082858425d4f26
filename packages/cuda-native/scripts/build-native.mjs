#!/usr/bin/env node
// Builds the Node-API addon build/Release/sparse_cuda.node from native/ with nvcc (kernels, and host code that
// needs CUDA headers) and the C++ compiler (Node-API glue), linked against the static CUDA runtime so that the
// addon loads on machines without a driver. Zero dependencies beyond Node and @sparse/core (the head-table
// header, native/head_table.h, is generated from core's definition first; a shipped one is kept when core cannot
// be imported), so it also runs on a GPU machine that has only a carried node binary (scripts/device-check.sh).
//
//   node scripts/build-native.mjs [--force] [--jobs N] [--archs 80,86,89,90]
//
// - No nvcc (or SPARSE_CUDA_SKIP_NATIVE=1): prints why and how to build, writes build/native-status.json
//   {built: false}, exits 0 (an existing addon is kept).
// - Sources unchanged since the last build (hash of native/*, this script, the toolchain and flags, compared
//   with build/native-stamp.json): nothing is rebuilt. Objects are cached one by one as well.
// - ptxas's register / spill report (-Xptxas -v) of every kernel lands in build/ptxas/*.log for
//   scripts/check-ptxas.mjs.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeHeadTable } from './head-table.mjs';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(pkgDir, 'native');
const buildDir = resolve(pkgDir, process.env.SPARSE_CUDA_BUILD_DIR ?? 'build');
const objDir = join(buildDir, 'obj');
const ptxasDir = join(buildDir, 'ptxas');
const outFile = join(buildDir, 'Release', 'sparse_cuda.node');
const statusFile = join(buildDir, 'native-status.json');
const stampFile = join(buildDir, 'native-stamp.json');
const BUILD_HINT = 'npx sparse-cuda-build (needs the CUDA toolkit 12 or 13: nvcc on PATH or CUDA_HOME set)';

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const option = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const force = flag('--force');
const archs = (option('--archs') ?? process.env.SPARSE_CUDA_ARCHS ?? '80,86,89,90')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const jobs = Math.max(1, Number(option('--jobs') ?? process.env.SPARSE_CUDA_JOBS ?? Math.min(availableParallelism(), 4)));
// nvcc --threads: compile the architectures of one file in parallel (worth it with many cores, e.g. on a GPU box).
const nvccThreads = Math.max(1, Number(option('--nvcc-threads') ?? process.env.SPARSE_NVCC_THREADS ?? 1));

function log(msg) {
  console.log(`[cuda-native] ${msg}`);
}

function writeStatus(status) {
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(statusFile, `${JSON.stringify({ ...status, date: new Date().toISOString() }, null, 2)}\n`);
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (existsSync(p) && statSync(p).isFile()) return p;
  }
  return null;
}

/** nvcc from $NVCC / $CUDACXX, $CUDA_HOME / $CUDA_PATH, then PATH. /usr/local/cuda is only suggested, never assumed. */
function findNvcc() {
  for (const env of ['NVCC', 'CUDACXX']) {
    const p = process.env[env];
    if (p && existsSync(p)) return p;
  }
  for (const env of ['CUDA_HOME', 'CUDA_PATH']) {
    const root = process.env[env];
    if (root && existsSync(join(root, 'bin', 'nvcc'))) return join(root, 'bin', 'nvcc');
  }
  return onPath('nvcc');
}

/** The toolkit root: nvcc may be a wrapper script (/usr/local/bin/nvcc), so ask nvcc itself (its TOP). */
function cudaRootOf(nvcc) {
  const dry = spawnSync(nvcc, ['--dryrun', '-c', '-x', 'cu', '/dev/null', '-o', '/dev/null'], { encoding: 'utf8' });
  const top = /^#\$ TOP=(.*)$/m.exec(`${dry.stdout ?? ''}${dry.stderr ?? ''}`);
  return top ? resolve(top[1].trim()) : resolve(dirname(realpathSync(nvcc)), '..');
}

function skip(reason) {
  if (existsSync(outFile)) {
    // A toolchain that went missing does not delete a working addon; say that it may be stale.
    log(`native addon not rebuilt: ${reason}; keeping the existing ${outFile} (it may predate source changes)`);
    process.exit(0);
  }
  writeStatus({ built: false, reason, hint: BUILD_HINT });
  log(`native addon NOT built: ${reason}`);
  log(`the package still works as a library: probe() reports this reason. To build: ${BUILD_HINT}`);
  process.exit(0);
}

function resolveHeaders() {
  const req = createRequire(join(pkgDir, 'package.json'));
  let napiHeaders = process.env.SPARSE_NODE_API_HEADERS;
  let addonApi = process.env.SPARSE_NODE_ADDON_API;
  if (!napiHeaders) {
    try {
      napiHeaders = join(dirname(req.resolve('node-api-headers/package.json')), 'include');
    } catch {
      const sys = resolve(dirname(process.execPath), '..', 'include', 'node');
      if (existsSync(join(sys, 'node_api.h'))) napiHeaders = sys;
    }
  }
  if (!addonApi) {
    try {
      addonApi = dirname(req.resolve('node-addon-api/package.json'));
    } catch {}
  }
  if (!napiHeaders || !existsSync(join(napiHeaders, 'node_api.h')))
    return { error: 'Node-API headers not found (install node-api-headers or set SPARSE_NODE_API_HEADERS)' };
  if (!addonApi || !existsSync(join(addonApi, 'napi.h'))) return { error: 'node-addon-api not found (install it or set SPARSE_NODE_ADDON_API)' };
  return { napiHeaders, addonApi };
}

function hashOf(parts) {
  const h = createHash('sha256');
  for (const p of parts) h.update(typeof p === 'string' ? p : JSON.stringify(p)).update('\0');
  return h.digest('hex').slice(0, 32);
}

function run(cmd, args, logFile) {
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('error', fail);
    child.on('close', (code) => {
      if (logFile) writeFileSync(logFile, out);
      if (code === 0) ok(out);
      else fail(new Error(`${cmd} ${args.join(' ')}\nexited with ${code}:\n${out}`));
    });
  });
}

async function pool(tasks, n) {
  const queue = [...tasks];
  const workers = Array.from({ length: Math.min(n, queue.length) }, async () => {
    while (queue.length) await queue.shift()();
  });
  await Promise.all(workers);
}

async function main() {
  const t0 = Date.now();
  // The head-table header comes from @sparse/core's definition, before anything else (also when the build is
  // skipped: the package ships it).
  const headTable = await writeHeadTable();
  if (headTable.written) log(`wrote ${headTable.path} from @sparse/core`);
  if (process.env.SPARSE_CUDA_SKIP_NATIVE === '1') skip('SPARSE_CUDA_SKIP_NATIVE=1 is set');
  if (headTable.error) skip(headTable.error);
  const nvcc = findNvcc();
  if (!nvcc) {
    const hint = existsSync('/usr/local/cuda/bin/nvcc')
      ? ' (/usr/local/cuda/bin/nvcc exists: add /usr/local/cuda/bin to PATH or set CUDA_HOME=/usr/local/cuda)'
      : '';
    skip(`nvcc (the CUDA compiler) was not found on PATH, $NVCC or $CUDA_HOME${hint}`);
  }
  const cudaRoot = cudaRootOf(nvcc);
  const cxx = process.env.CXX ?? onPath('g++') ?? onPath('c++');
  if (!cxx) skip('no C++ compiler (g++ or $CXX) was found');
  const headers = resolveHeaders();
  if (headers.error) skip(headers.error);
  const libDirs = [join(cudaRoot, 'lib64'), join(cudaRoot, 'lib'), join(cudaRoot, 'targets', `${process.arch === 'arm64' ? 'sbsa' : 'x86_64'}-linux`, 'lib')];
  const libDir = libDirs.find((d) => existsSync(join(d, 'libcudart_static.a')));
  if (!libDir) skip(`libcudart_static.a was not found under ${cudaRoot}`);

  let nvccVersion;
  try {
    nvccVersion = execFileSync(nvcc, ['--version'], { encoding: 'utf8' }).trim().split('\n').pop();
  } catch (e) {
    skip(`${nvcc} --version failed: ${e.message}`);
  }
  const cxxVersion = execFileSync(cxx, ['--version'], { encoding: 'utf8' }).split('\n')[0];

  const files = readdirSync(srcDir).sort();
  const headersText = files.filter((f) => /\.(h|cuh)$/.test(f)).map((f) => f + readFileSync(join(srcDir, f), 'utf8'));
  const cuFiles = files.filter((f) => f.endsWith('.cu'));
  const ccFiles = files.filter((f) => f.endsWith('.cc'));
  const archList = archs.map((a) => a.replace(/^sm_/, ''));
  const archArgs = archList.flatMap((a, n) => ['-gencode', `arch=compute_${a},code=${n === archList.length - 1 ? `[sm_${a},compute_${a}]` : `sm_${a}`}`]);
  const defs = [`-DSPARSE_CUDA_ARCHS="${archList.join(',')}"`, '-DNAPI_VERSION=8', '-DNAPI_CPP_EXCEPTIONS', '-DNODE_ADDON_API_DISABLE_DEPRECATED'];
  const includes = [`-I${srcDir}`, `-I${headers.napiHeaders}`, `-I${headers.addonApi}`, `-I${join(cudaRoot, 'include')}`];
  const nvccFlags = ['-std=c++17', '-O3', '-Xcompiler', '-fPIC,-fvisibility=hidden', '-Xptxas', '-v', ...archArgs, ...defs, ...includes];
  const nvccRun = nvccThreads > 1 ? ['--threads', String(nvccThreads)] : [];
  const cxxFlags = ['-std=c++17', '-O2', '-fPIC', '-fvisibility=hidden', '-fexceptions', '-Wall', '-Wno-unused-function', ...defs, ...includes];
  const linkFlags = ['-shared', '-static-libstdc++', '-static-libgcc', `-L${libDir}`, '-lcudart_static', '-ldl', '-lrt', '-lpthread'];
  const script = readFileSync(fileURLToPath(import.meta.url), 'utf8');
  const stamp = hashOf([script, nvccVersion, cxxVersion, nvccFlags, cxxFlags, linkFlags, ...files.map((f) => f + readFileSync(join(srcDir, f), 'utf8'))]);

  if (!force && existsSync(outFile) && existsSync(stampFile)) {
    try {
      if (JSON.parse(readFileSync(stampFile, 'utf8')).hash === stamp) {
        log(`native addon up to date (${outFile}); sources unchanged since the last build`);
        return;
      }
    } catch {}
  }

  log(`building with ${nvccVersion} for sm_${archList.join(', sm_')} (+PTX ${archList.at(-1)}), ${jobs} job(s)`);
  mkdirSync(objDir, { recursive: true });
  mkdirSync(ptxasDir, { recursive: true });
  mkdirSync(dirname(outFile), { recursive: true });
  const objects = [];
  const tasks = [];
  const sizeOf = (f) => statSync(join(srcDir, f)).size;
  // The biggest translation units first, so that the slow ones overlap.
  for (const f of [...cuFiles].sort((a, b) => sizeOf(b) - sizeOf(a))) {
    const obj = join(objDir, `${f}.o`);
    const key = hashOf([nvccVersion, nvccFlags, readFileSync(join(srcDir, f), 'utf8'), ...headersText]);
    objects.push(obj);
    tasks.push(async () => {
      const keyFile = `${obj}.key`;
      if (!force && existsSync(obj) && existsSync(keyFile) && readFileSync(keyFile, 'utf8') === key) return;
      const t = Date.now();
      await run(nvcc, [...nvccFlags, ...nvccRun, '-c', join(srcDir, f), '-o', obj], join(ptxasDir, `${f}.log`));
      writeFileSync(keyFile, key);
      log(`  nvcc ${f} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    });
  }
  for (const f of ccFiles) {
    const obj = join(objDir, `${f}.o`);
    const key = hashOf([cxxVersion, cxxFlags, readFileSync(join(srcDir, f), 'utf8'), ...headersText]);
    objects.push(obj);
    tasks.push(async () => {
      const keyFile = `${obj}.key`;
      if (!force && existsSync(obj) && existsSync(keyFile) && readFileSync(keyFile, 'utf8') === key) return;
      const t = Date.now();
      await run(cxx, [...cxxFlags, '-c', join(srcDir, f), '-o', obj]);
      writeFileSync(keyFile, key);
      log(`  c++ ${f} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    });
  }
  // Stale objects and logs of removed sources.
  for (const f of readdirSync(objDir)) if (!objects.includes(join(objDir, f.replace(/\.key$/, '')))) rmSync(join(objDir, f));
  for (const f of readdirSync(ptxasDir)) if (!cuFiles.includes(f.replace(/\.log$/, ''))) rmSync(join(ptxasDir, f));

  try {
    await pool(tasks, jobs);
    const tmp = `${outFile}.tmp-${process.pid}`;
    await run(cxx, ['-o', tmp, ...objects, ...linkFlags]);
    renameSync(tmp, outFile);
  } catch (e) {
    writeStatus({ built: false, reason: `the native build failed: ${String(e.message).split('\n').slice(0, 3).join(' ')}`, hint: BUILD_HINT });
    console.error(e.message);
    process.exit(1);
  }
  const seconds = (Date.now() - t0) / 1000;
  writeFileSync(stampFile, `${JSON.stringify({ hash: stamp }, null, 2)}\n`);
  writeStatus({ built: true, binary: outFile, nvcc: nvccVersion, archs: archList, seconds });
  log(`built ${outFile} in ${seconds.toFixed(1)} s`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
