import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);

/** The backend bundled for a child process (beside node_modules, so its runtime import of `webgpu` resolves). */
async function bundle(): Promise<string> {
  const dir = join(here, '..', 'node_modules', '.cache', 'sparse-webgpu-test');
  mkdirSync(dir, { recursive: true });
  const entry = join(dir, 'probe.mjs');
  const result = await build({
    entryPoints: [join(here, '..', 'src', 'index.ts')],
    bundle: true,
    format: 'esm',
    platform: 'node',
    write: false,
    logLevel: 'error',
  });
  const probe = 'const b = webgpu(); const p = await b.probe(); await b.dispose(); process.stdout.write(JSON.stringify(p));';
  writeFileSync(entry, `${result.outputFiles[0]!.text}\n${probe}\n`);
  return entry;
}

describe.runIf(process.platform === 'linux')('without a Vulkan driver', () => {
  it('probe() gives the typed reason and Dawn prints nothing to stderr', async () => {
    const entry = await bundle();
    const { stdout, stderr } = await run(process.execPath, [entry], { env: { ...process.env, VK_ICD_FILENAMES: '/nonexistent' } });
    expect(stderr).toBe('');
    const probe = JSON.parse(stdout) as { available: boolean; reason: string };
    expect(probe.available).toBe(false);
    expect(probe.reason).toMatch(/VK_ICD_FILENAMES=\/nonexistent names no file that exists/);
    expect(probe.reason).toMatch(/vk_swiftshader_icd\.json/);
  });
});
