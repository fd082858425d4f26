import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Backend, PATTERN_KINDS, reference } from '@sparse/core';
import { describe, expect, it } from 'vitest';
import { compareResult, formatReport, listCases, loadCase, runConformance } from '../src/index.js';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '..', 'dist', 'cli.js');

/** A backend that is wrong in a way the suite must catch: it scales the output slightly. */
function skewed(factor: number): Backend {
  const inner = reference();
  return {
    ...inner,
    name: 'skewed',
    async attention(req, o) {
      const r = await inner.attention(req, o);
      return { ...r, out: { ...r.out, data: r.out.data.map((x) => x * factor) } };
    },
  };
}

describe('the golden cases', () => {
  const cases = listCases();
  it('cover at least 80 cases, every pattern kind and every coverage tag the design asks for', () => {
    expect(cases.length).toBeGreaterThanOrEqual(80);
    const kinds = new Set<string>();
    const walk = (p: unknown): void => {
      if (Array.isArray(p)) {
        p.forEach(walk);
        return;
      }
      const o = p as { kind: string; of?: unknown; within?: unknown };
      kinds.add(o.kind);
      if (o.of) walk(o.of);
      if (o.within) walk(o.within);
    };
    for (const c of cases) walk(c.pattern);
    for (const k of PATTERN_KINDS) expect(kinds, k).toContain(k); // every kind core knows
    const tags = new Set(cases.flatMap((c) => c.tags));
    for (const t of [
      'example',
      'sugar',
      'convert',
      'per-head',
      'gqa',
      'mqa',
      'cross',
      'query-offset',
      'dv',
      'head-dim',
      'length',
      'masked-rows',
      'ties',
      'layout',
      'scale',
    ])
      expect(tags, t).toContain(t);
    const dims = new Set(cases.map((c) => c.shapes.q[3]));
    for (const d of [1, 3, 17, 64, 80, 128, 256]) expect(dims, `head dim ${d}`).toContain(d);
  });
  it('every manifest says what it pins', () => {
    for (const c of cases) expect(c.pins.length, c.id).toBeGreaterThan(10);
  });
  it('pins the worked atrous example to its definition: A attends A, C and E', () => {
    const g = loadCase(listCases({ filter: 'example-atrous-k2' })[0]!);
    expect(Array.from(g.expected.out.subarray(0, 5)).map((x) => +x.toFixed(6))).toEqual([0.333333, 0, 0.333333, 0, 0.333333]);
  });
});

describe('comparison and reports', () => {
  it('fails a backend whose output is off by 0.1%, naming the first bad entry', async () => {
    const g = loadCase(listCases({ filter: 'local-symmetric' })[0]!);
    const r = await skewed(1.001).attention(g.request);
    const c = compareResult(g, r, { atol: 1e-5, rtol: 1e-4, lseAtol: 1e-5 });
    expect(c.pass).toBe(false);
    expect(c.message).toMatch(/^out\[\d+\] = .* expected .* \(\|err\|/);
  });
  it('fails NaN, wrong shapes and a missing lse', async () => {
    const g = loadCase(listCases({ filter: 'dense-basic' })[0]!);
    const ok = await reference().attention(g.request);
    const tol = { atol: 1e-5, rtol: 1e-4, lseAtol: 1e-5 };
    expect(compareResult(g, ok, tol).pass).toBe(true);
    const nan = { ...ok, out: { ...ok.out, data: ok.out.data.map((x, n) => (n === 3 ? Number.NaN : x)) } };
    expect(compareResult(g, nan, tol).message).toMatch(/out\[3\] is NaN/);
    expect(compareResult(g, { out: ok.out }, tol).message).toMatch(/lse missing/);
    expect(compareResult(g, { ...ok, out: { ...ok.out, shape: [1] } }, tol).message).toMatch(/out shape/);
  });
  it('the non-finite cases need NaN in exactly the rows the rule names, and pass on the reference', async () => {
    const tol = { atol: 1e-5, rtol: 1e-4, lseAtol: 1e-5 };
    const manifests = listCases({ filter: 'nonfinite' });
    expect(manifests.length).toBeGreaterThanOrEqual(8);
    for (const m of manifests) expect(compareResult(loadCase(m), await reference().attention(loadCase(m).request), tol).pass, m.id).toBe(true);
    const g = loadCase(listCases({ filter: 'nonfinite-masked-key' })[0]!);
    const ok = await reference().attention(g.request);
    // A backend that hides NaN (out 0) fails, and so does one that spreads it to a row that does not attend the key.
    const hidden = { ...ok, out: { ...ok.out, data: ok.out.data.map((x) => (Number.isNaN(x) ? 0 : x)) } };
    expect(compareResult(g, hidden, tol).message).toMatch(/expected NaN \(its row attends a non-finite/);
    const spread = { ...ok, lse: { ...ok.lse!, data: ok.lse!.data.map((x, n) => (n === 0 ? Number.NaN : x)) } };
    expect(compareResult(g, spread, tol).message).toMatch(/lse\[0\] is NaN/);
  });
  it('reports a table ending with "N passed, N failed" and prints skip reasons', async () => {
    const report = await runConformance(skewed(1.01), { filter: 'example', skip: { 'example-local-k1': 'demonstrating a stated skip' } });
    const text = formatReport(report);
    expect(text).toMatch(/example-local-k1 .* skip \(demonstrating a stated skip\)/);
    expect(text.trim().split('\n').at(-1)).toBe('0 passed, 1 failed, 1 skipped');
  });
});

describe('sparse-conformance CLI', () => {
  it('runs the reference backend and ends with the plain summary line', async () => {
    const { stdout } = await run(process.execPath, [CLI, '--backend', 'reference', '--filter', '/^(example|topk)/']);
    expect(stdout).toMatch(/example-atrous-k2 .* pass/);
    expect(stdout.trim().split('\n').at(-1)).toMatch(/^\d+ passed, 0 failed$/);
  });
  it('runs a third-party backend module and gives --json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sparse-third-party-'));
    const core = new URL('../../core/dist/index.js', import.meta.url).href;
    writeFileSync(join(dir, 'my-backend.mjs'), `import { reference } from '${core}';\nexport default () => ({ ...reference(), name: 'my-backend' });\n`);
    const { stdout } = await run(process.execPath, [CLI, '--backend', join(dir, 'my-backend.mjs'), '--filter', 'cluster', '--json']);
    const report = JSON.parse(stdout);
    expect(report.backend).toBe('my-backend');
    expect(report.failed).toBe(0);
    expect(report.passed).toBeGreaterThanOrEqual(3);
  });
  it('exits non-zero with a clear message for a missing backend package, and 1 when cases fail', async () => {
    await expect(run(process.execPath, [CLI, '--backend', 'tfjs-nope'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^sparse-conformance: backend "tfjs-nope": cannot import/),
    });
    const dir = mkdtempSync(join(tmpdir(), 'sparse-bad-'));
    const core = new URL('../../core/dist/index.js', import.meta.url).href;
    writeFileSync(
      join(dir, 'bad.mjs'),
      `import { reference } from '${core}';\nconst r = reference();\nexport default { ...r, name: 'bad', attention: async (q) => { const x = await r.attention(q); x.out.data.fill(0.5); return x; } };\n`,
    );
    const failing = await run(process.execPath, [CLI, '--backend', join(dir, 'bad.mjs'), '--filter', 'example']).catch((e) => e);
    expect(failing.code).toBe(1);
    expect(failing.stdout.trim().split('\n').at(-1)).toBe('0 passed, 2 failed');
  });
});
