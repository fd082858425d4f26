import { expect } from 'vitest';
import type { BackendResult } from './browser.js';

export const BACKENDS = ['cpu-wasm', 'webgpu', 'tfjs'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** What each backend must report on the page, with and without cross-origin isolation. */
export function expected(
  backend: BackendName,
  isolated: boolean,
  tfjsThreads = true,
): { title: string; match: Partial<BackendResult> & Record<string, unknown> } {
  switch (backend) {
    case 'cpu-wasm':
      return isolated
        ? { title: 'PASS on two workers', match: { pass: true, mode: 'workers', threads: 2 } }
        : {
            title: 'PASS single-threaded, saying why',
            match: { pass: true, mode: 'inline', threads: 1, device: expect.stringMatching(/cross-origin isolat/) },
          };
    case 'webgpu':
      return { title: 'PASS on navigator.gpu (SwiftShader)', match: { pass: true, device: expect.stringMatching(/swiftshader/) } };
    case 'tfjs': {
      // tf.js picks its threaded build only where SharedArrayBuffer is available (and the page allows it).
      const wasm = isolated && tfjsThreads ? 'tfjs-backend-wasm-threaded-simd.wasm' : 'tfjs-backend-wasm-simd.wasm';
      return { title: `PASS on tf.js wasm (${wasm})`, match: { pass: true, wasm, device: expect.stringMatching(/"wasm" backend/) } };
    }
  }
}
