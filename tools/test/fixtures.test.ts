import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without types
import { DEFAULT_OUT, diffAgainst, generateAll, generateCase } from '../fixtures/generate.mjs';

describe('golden fixture generation', () => {
  it('regenerating gives byte-identical fixtures (the diff of a regeneration is empty)', () => {
    expect(diffAgainst(DEFAULT_OUT, generateAll())).toEqual([]);
  });
  it('stays under 10 MB', () => {
    const bytes = generateAll().reduce(
      (a: number, c: { files: Record<string, Uint8Array> }) => a + Object.values(c.files).reduce((b, f) => b + f.length, 0),
      0,
    );
    expect(bytes).toBeLessThan(10 * 2 ** 20);
  });
  it('refuses a content-based case whose selection float32 rounding could flip', () => {
    expect(() =>
      generateCase({
        id: 'knife-edge',
        pins: 'x',
        tags: [],
        pattern: {
          kind: 'cluster',
          centroids: [
            [3, 4],
            [4, 3],
          ],
        },
        Sq: 12,
        D: 2,
        inputs: 'integer',
      }),
    ).toThrow(/refusing to write case knife-edge: cluster label/);
    expect(() =>
      generateCase({ id: 'tie-inexact', pins: 'x', tags: [], pattern: { kind: 'topk', k: 3 }, Sq: 20, D: 2, inputs: 'integer', scale: 0.3 }),
    ).toThrow(/refusing to write case tie-inexact: top-k boundary/);
  });
});
