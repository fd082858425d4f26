import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeBinding, NativeBuildInfo, NativeProbe } from './binding.js';

/** The package's root directory (dist/.. or src/..). */
export const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const BINARY_NAME = 'sparse_cuda.node';
export const LOCAL_BINARY = join(PACKAGE_DIR, 'build', 'Release', BINARY_NAME);
/** Builds the addon into build/Release from the installed package's sources (scripts/build-native.mjs). */
export const BUILD_COMMAND = 'npx sparse-cuda-build';

/** `linux-x64-gnu`, `linux-arm64-musl`, `win32-x64`, … : the suffix of the per-platform package. */
export function platformTag(): string {
  if (process.platform !== 'linux') return `${process.platform}-${process.arch}`;
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return `linux-${process.arch}-${report?.header?.glibcVersionRuntime ? 'gnu' : 'musl'}`;
}

export const platformPackage = (): string => `@sparse/cuda-native-${platformTag()}`;

export interface Candidate {
  path: string;
  /** Where it came from, for messages. */
  source: string;
}

/**
 * Addon binaries to try, in order. An explicit choice (the binaryPath option, else $SPARSE_CUDA_NATIVE_BINARY)
 * is the only candidate; otherwise the local build (`npx sparse-cuda-build`), then the per-platform package
 * that npm installs from optionalDependencies.
 */
export function candidateBinaries(binaryPath?: string): Candidate[] {
  if (binaryPath) return [{ path: resolve(binaryPath), source: 'the binaryPath option' }];
  const env = process.env.SPARSE_CUDA_NATIVE_BINARY;
  if (env) return [{ path: resolve(env), source: '$SPARSE_CUDA_NATIVE_BINARY' }];
  const out: Candidate[] = [{ path: LOCAL_BINARY, source: 'the local build' }];
  try {
    const req = createRequire(join(PACKAGE_DIR, 'package.json'));
    out.push({ path: req.resolve(`${platformPackage()}/${BINARY_NAME}`), source: platformPackage() });
  } catch {
    // not installed: another platform, or optional dependencies omitted
  }
  return out;
}

/** Why the local build has no binary (build/native-status.json, written by scripts/build-native.mjs). */
export function buildStatusReason(): string {
  const statusFile = join(PACKAGE_DIR, 'build', 'native-status.json');
  let why = 'the package has not been built on this machine';
  try {
    const status = JSON.parse(readFileSync(statusFile, 'utf8')) as { built?: boolean; reason?: string };
    if (status.built === false && status.reason) why = status.reason;
  } catch {
    // no status file
  }
  return (
    `the native addon was not built (${why}) and the prebuilt package ${platformPackage()} is not installed; ` +
    `install it (npm installs it with @sparse/cuda-native on Linux x64 with glibc, unless optional dependencies are omitted) ` +
    `or build the addon with \`${BUILD_COMMAND}\` (needs the CUDA toolkit 12 or 13)`
  );
}

export interface ChildCheck {
  ok: boolean;
  reason?: string;
  probe?: NativeProbe;
  buildInfo?: NativeBuildInfo;
}

const CHILD_SCRIPT = `
const b = require(process.argv[1]);
const device = Number(process.argv[2]);
Promise.resolve(b.probe(device)).then(
  (probe) => { process.stdout.write(JSON.stringify({ probe, buildInfo: b.buildInfo() })); },
  (e) => { process.stderr.write(String(e && e.message || e)); process.exit(3); },
);`;

/**
 * Loads the addon in a child Node process and runs its probe there: a binary that cannot be loaded (wrong
 * platform, missing symbols) or that crashes the process fails only the child, and the reason comes back.
 */
export function checkInChild(path: string, device: number, timeoutMs = 120_000): Promise<ChildCheck> {
  return new Promise((done) => {
    execFile(process.execPath, ['-e', CHILD_SCRIPT, path, String(device)], { timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const how = err.killed ? `was killed after ${timeoutMs} ms` : err.signal ? `died with ${err.signal}` : `exited with code ${err.code}`;
        const detail = String(stderr || err.message)
          .trim()
          .split('\n')
          .slice(0, 4)
          .join(' ');
        done({ ok: false, reason: `the native addon ${path} failed to load in a child process (it ${how}): ${detail}` });
        return;
      }
      try {
        const parsed = JSON.parse(stdout) as { probe: NativeProbe; buildInfo: NativeBuildInfo };
        done({ ok: true, probe: parsed.probe, buildInfo: parsed.buildInfo });
      } catch {
        done({ ok: false, reason: `the native addon ${path} loaded in a child process but answered ${JSON.stringify(stdout.slice(0, 200))}` });
      }
    });
  });
}

export type LoadOutcome = { ok: true; binding: NativeBinding; path: string; source: string } | { ok: false; reason: string };

/**
 * Finds the addon, checks it in a child process (unless isolate is false), then loads it into this process.
 * Never throws: a failure comes back as the reason probe() reports.
 */
export async function loadBinding(options: { binaryPath?: string; isolate?: boolean; device?: number } = {}): Promise<LoadOutcome> {
  const candidates = candidateBinaries(options.binaryPath);
  const found = candidates.find((c) => existsSync(c.path));
  if (!found) {
    const only = candidates[0]!;
    if (only.path !== LOCAL_BINARY) return { ok: false, reason: `the native addon ${only.path} (${only.source}) does not exist` };
    return { ok: false, reason: buildStatusReason() };
  }
  if (options.isolate !== false) {
    const check = await checkInChild(found.path, options.device ?? 0);
    if (!check.ok) return { ok: false, reason: check.reason ?? 'the child-process load check failed' };
  }
  try {
    const binding = createRequire(import.meta.url)(found.path) as NativeBinding;
    if (typeof binding?.attention !== 'function' || typeof binding.probe !== 'function')
      return { ok: false, reason: `${found.path} is not the sparse cuda-native addon (no attention/probe exports)` };
    return { ok: true, binding, path: found.path, source: found.source };
  } catch (e) {
    return { ok: false, reason: `the native addon ${found.path} (${found.source}) failed to load: ${(e as Error).message}` };
  }
}
