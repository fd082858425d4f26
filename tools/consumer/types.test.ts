import { execFileSync } from 'node:child_process';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { installProject } from './install.js';
import { TFJS } from './tfjs-wasm.js';

/**
 * The published packages' declarations as a TypeScript user gets them: a project that installs them with npm from
 * the run's local registry and type-checks each program of types/ with `tsc --noEmit`, strict, `types: ["node"]`
 * (nothing ambient comes along unless a package brings it), under both module resolutions users pick.
 */
const BASE = join(tmpdir(), 'sparse-consumer');

/**
 * types/tfjs.ts also sets skipLibCheck: tf.js 4.22's own declarations do not check with `types: ["node"]` (they use
 * the globals of @types/long and @types/emscripten), and tfjs-core's copy of @webgpu/types (0.1.38) conflicts with
 * any newer one in the same program. Its imports from our packages are still checked, in types/tfjs.ts itself.
 */
const PROGRAMS = { sparse: { skipLibCheck: false }, tfjs: { skipLibCheck: true } };

const RESOLUTIONS = {
  bundler: { module: 'esnext', moduleResolution: 'bundler' },
  nodenext: { module: 'nodenext', moduleResolution: 'nodenext' },
};

describe('TypeScript consumer of the published packages', () => {
  let dir: string;

  beforeAll(() => {
    dir = installProject(BASE, 'typescript', { typescript: '5.9.3', '@types/node': '20.19.43', ...TFJS });
    rmSync(join(dir, 'src'), { recursive: true, force: true });
    cpSync(join(import.meta.dirname, 'types'), join(dir, 'src'), { recursive: true });
  }, 300_000);

  for (const [program, options] of Object.entries(PROGRAMS))
    for (const [name, resolution] of Object.entries(RESOLUTIONS)) {
      it(`${program}.ts: tsc --noEmit, moduleResolution ${name}`, () => {
        const compilerOptions = { target: 'es2022', lib: ['es2022', 'dom'], ...resolution, strict: true, noEmit: true, types: ['node'], ...options };
        const config = join(dir, `tsconfig.${program}.${name}.json`);
        writeFileSync(config, JSON.stringify({ compilerOptions, files: [`src/${program}.ts`] }, null, 2));
        let output = '';
        try {
          execFileSync(join(dir, 'node_modules', '.bin', 'tsc'), ['-p', config], { cwd: dir, stdio: 'pipe', timeout: 120_000 });
        } catch (e) {
          const err = e as { stdout?: Buffer; stderr?: Buffer; message: string };
          output = `${err.stdout?.toString() ?? ''}${err.stderr?.toString() ?? err.message}`;
        }
        expect(output).toBe('');
      });
    }
});
