import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The kernel build the project tests (vitest.config.ts). */
    kernel: 'simd128' | 'relaxed';
  }
}

/** The build this vitest project forces in the suites that check results: 'simd128' or 'relaxed'. */
export const KERNEL = inject('kernel');
