import { headTableSource } from '@sparse/core/backend';

/**
 * Access to the kernels' table: core's head-table constants (HEAD_ROW_PTR, HEAD_MODE, MODE_TOPK, …, generated
 * from its one definition), and the word of a head's row. A head's offsets count elements of their section; the
 * sections' starts in the table are params (P.rowPtrAt, P.colIdxAt, …; pack.ts lays them out).
 */
export function headTableWgsl(): string {
  return `${headTableSource('wgsl')}
// Word \`field\` (a HEAD_ constant) of query head h's row.
fn headWord(h: u32, field: u32) -> u32 {
  return tab[h * HEAD_WORDS + field];
}
`;
}
