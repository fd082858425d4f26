import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchOutput } from '../src/report/write.js';
import { ensureBuilt, mainJs } from './helpers.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the harness; `onStdout` sees its output as it comes and may act on the harness's process id. */
function bench(args: string[], env: NodeJS.ProcessEnv, onStdout?: (text: string, pid: number) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [mainJs, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      onStdout?.(stdout, p.pid!);
    });
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => p.kill('SIGKILL'), 55_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The process ids of the harness's children (its target processes). */
function childrenOf(pid: number): number[] {
  const tasks = join('/proc', String(pid), 'task');
  return readdirSync(tasks).flatMap((t) =>
    readFileSync(join(tasks, t, 'children'), 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number),
  );
}

describe('a target whose child process is gone', () => {
  let out: string;
  beforeAll(() => {
    ensureBuilt();
    out = mkdtempSync(join(tmpdir(), 'sparse-bench-dead-'));
  }, 60_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('webgpu with no adapter (Vulkan pointed at a missing ICD): exits 0, writes the report, lists webgpu as unavailable with its reason', async () => {
    // Several large cases: the harness does real work between ending the unavailable child and closing it.
    const dir = join(out, 'no-adapter');
    const r = await bench(
      [
        '--quick',
        '--backends',
        'webgpu',
        '--peers',
        'none',
        '--patterns',
        'sliding,dilated,bigbird',
        '--n',
        '16384',
        '--windows',
        '64',
        '--heads',
        '1',
        '--out',
        dir,
      ],
      { VK_ICD_FILENAMES: '/nonexistent/vk_icd.json' },
    );
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled|\n\s+at /);
    expect(r.code, r.stderr).toBe(0);
    const data = JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8')) as BenchOutput;
    const webgpu = data.targets.find((t) => t.label === 'webgpu')!;
    expect(webgpu.available).toBe(false);
    expect(webgpu.reason).toMatch(/adapter/i);
    expect(data.cases).toHaveLength(3);
    for (const c of data.cases) expect(c.results.find((x) => x.target === 'webgpu')?.status).toBe('unavailable');
    expect(readFileSync(join(dir, 'latest.md'), 'utf8')).toContain('webgpu');
  }, 60_000);

  it('a child killed mid-run: that case is reported failed with the reason, a fresh child runs the next one, the report is written', async () => {
    const dir = join(out, 'killed');
    const killed: number[] = [];
    const r = await bench(
      [
        '--quick',
        '--backends',
        'reference',
        '--peers',
        'none',
        '--patterns',
        'sliding,causal-sliding',
        '--n',
        '2048',
        '--windows',
        '512',
        '--heads',
        '1',
        '--out',
        dir,
      ],
      {},
      (text, pid) => {
        // The first case has started: its child is busy in the float64 loop (seconds at this size).
        if (killed.length === 0 && text.includes('[1/2]')) {
          for (const child of childrenOf(pid)) {
            process.kill(child, 'SIGKILL');
            killed.push(child);
          }
        }
      },
    );
    expect(killed.length).toBeGreaterThan(0);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled|\n\s+at /);
    expect(r.code, r.stderr).toBe(0);
    const data = JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8')) as BenchOutput;
    const [first, second] = data.cases.map((c) => c.results.find((x) => x.target === 'reference@1t')!);
    expect(first!.status).toBe('failed');
    expect(first!.reason).toMatch(/child process (died|is gone).*SIGKILL/);
    expect(second!.status, second!.reason).toBe('ok');
  }, 60_000);
});
