/** n lines of WGSL, one per m in [0, n): the written-out loops that keep per-thread vec4 values in registers. */
export const each = (n: number, line: (m: number) => string): string => Array.from({ length: n }, (_, m) => line(m)).join('\n');
