/**
 * The top-k row state: STATE_WORDS u32 per query row in aux (from P.stateOff), written by the radix and tie passes
 * and read by the fused kernel.
 */
export const ROW_STATE = {
  /** The threshold: the order key's high digits found so far (radix passes), then the whole key. */
  key: 0,
  /** Keys still to keep at the threshold's digits (the tie pass's quota). */
  quota: 1,
  /** A TOPK flag. */
  flag: 2,
  /** The tie cut: keys equal to the threshold are kept up to this index (0xffffffff: all). */
  cut: 3,
} as const;

export const STATE_WORDS = 4;

/** Where a row's selection stands. */
export const TOPK = {
  /** Radix passes are still narrowing the threshold. */
  radix: 1,
  /** The row has at most k candidates: every one is kept. */
  all: 2,
  /** The threshold is known; the tie pass must find the cut. */
  tie: 3,
  /** Threshold and cut are known. */
  done: 4,
} as const;

const constName = (prefix: string, field: string) => `${prefix}_${field.toUpperCase()}`;

export function rowStateWgsl(): string {
  const lines = [
    ...Object.entries(ROW_STATE).map(([f, v]) => `const ${constName('STATE', f)} = ${v}u;`),
    `const STATE_WORDS = ${STATE_WORDS}u;`,
    ...Object.entries(TOPK).map(([f, v]) => `const ${constName('TOPK', f)} = ${v}u;`),
  ];
  return `${lines.join('\n')}
// Where the state of row i of (b, h) starts in aux (rows past Sq share the last row's, never written by them).
fn rowStateAt(b: u32, h: u32, i: u32) -> u32 {
  return P.stateOff + ((b * P.Hq + h) * P.Sq + min(i, P.Sq - 1u)) * STATE_WORDS;
}
`;
}
