import { writeFile } from 'node:fs/promises';
import { type BlockMask, compileBlockMask, type Pattern, SparseAttentionError, validatePatternForShapes } from '@sparse/core';
import { checkFlags, intFlag, type ParsedArgs, stringFlag } from '../args.js';
import { encodePng } from '../png.js';
import { readPatternArg } from './run.js';

export const SHOW_USAGE = 'sparse-attn pattern show JSON|@file --sq N [--sk N] [--query-offset N] [--block N] [--png FILE]';

const COLOURS = { full: [31, 78, 121], partialOn: [230, 126, 34], partialOff: [250, 219, 172], skipped: [255, 255, 255] } as const;

/** The state of every (query block, key block): 0 skipped, 1 partial, 2 full. */
function blockStates(mask: BlockMask): Uint8Array {
  const s = new Uint8Array(mask.numQBlocks * mask.numKBlocks);
  for (let qb = 0; qb < mask.numQBlocks; qb++)
    for (let n = mask.rowPtr[qb]!; n < mask.rowPtr[qb + 1]!; n++) s[qb * mask.numKBlocks + mask.colIdx[n]!] = mask.partialIdx[n]! < 0 ? 2 : 1;
  return s;
}

function isAllowed(mask: BlockMask, i: number, j: number): boolean {
  const qb = Math.floor(i / mask.blockQ);
  const kb = Math.floor(j / mask.blockK);
  for (let n = mask.rowPtr[qb]!; n < mask.rowPtr[qb + 1]!; n++) {
    if (mask.colIdx[n] !== kb) continue;
    const P = mask.partialIdx[n]!;
    if (P < 0) return true;
    const c = j - kb * mask.blockK;
    return ((mask.bits[(P * mask.blockQ + (i - qb * mask.blockQ)) * mask.wordsPerRow + (c >>> 5)]! >>> (c & 31)) & 1) === 1;
  }
  return false;
}

/** Element grid for small sizes: '█' allowed, '·' not. */
function textGrid(mask: BlockMask): string {
  const lines: string[] = [];
  for (let i = 0; i < mask.seqQ; i++) {
    let line = '';
    for (let j = 0; j < mask.seqK; j++) line += isAllowed(mask, i, j) ? '█' : '·';
    lines.push(line);
  }
  return lines.join('\n');
}

/** Block grid for larger sizes: '#' full, '+' partial, '.' skipped (at most 96 columns, sampled). */
function blockGrid(mask: BlockMask, states: Uint8Array): string {
  const cols = Math.min(mask.numKBlocks, 96);
  const rows = Math.min(mask.numQBlocks, 48);
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    const qb = Math.floor((r * mask.numQBlocks) / rows);
    let line = '';
    for (let c = 0; c < cols; c++) {
      const kb0 = Math.floor((c * mask.numKBlocks) / cols);
      const kb1 = Math.max(kb0 + 1, Math.floor(((c + 1) * mask.numKBlocks) / cols));
      let best = 0;
      for (let kb = kb0; kb < kb1; kb++) best = Math.max(best, states[qb * mask.numKBlocks + kb]!);
      line += best === 2 ? '#' : best === 1 ? '+' : '.';
    }
    lines.push(line);
  }
  return lines.join('\n');
}

function picture(mask: BlockMask, states: Uint8Array): { width: number; height: number; rgb: Uint8Array; perElement: boolean } {
  const perElement = mask.seqQ <= 2048 && mask.seqK <= 2048;
  if (perElement) {
    const zoom = Math.max(1, Math.floor(512 / Math.max(mask.seqQ, mask.seqK)));
    const width = mask.seqK * zoom;
    const height = mask.seqQ * zoom;
    const rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < mask.seqQ; i++)
      for (let j = 0; j < mask.seqK; j++) {
        const st = states[Math.floor(i / mask.blockQ) * mask.numKBlocks + Math.floor(j / mask.blockK)]!;
        const colour = st === 2 ? COLOURS.full : st === 0 ? COLOURS.skipped : isAllowed(mask, i, j) ? COLOURS.partialOn : COLOURS.partialOff;
        for (let y = 0; y < zoom; y++) for (let x = 0; x < zoom; x++) rgb.set(colour, ((i * zoom + y) * width + j * zoom + x) * 3);
      }
    return { width, height, rgb, perElement };
  }
  const zoom = Math.max(1, Math.floor(512 / Math.max(mask.numQBlocks, mask.numKBlocks)));
  const width = mask.numKBlocks * zoom;
  const height = mask.numQBlocks * zoom;
  const rgb = new Uint8Array(width * height * 3);
  for (let qb = 0; qb < mask.numQBlocks; qb++)
    for (let kb = 0; kb < mask.numKBlocks; kb++) {
      const st = states[qb * mask.numKBlocks + kb];
      const colour = st === 2 ? COLOURS.full : st === 1 ? COLOURS.partialOn : COLOURS.skipped;
      for (let y = 0; y < zoom; y++) for (let x = 0; x < zoom; x++) rgb.set(colour, ((qb * zoom + y) * width + kb * zoom + x) * 3);
    }
  return { width, height, rgb, perElement };
}

export async function patternShowCommand(args: ParsedArgs): Promise<void> {
  checkFlags(args, ['sq', 'sk', 'query-offset', 'block', 'png'], 'pattern show');
  const text = args.positional[0];
  if (text === undefined) throw new SparseAttentionError('INVALID_ARGUMENT', `pattern: missing (usage: ${SHOW_USAGE})`, { field: 'pattern' });
  const patterns = await readPatternArg(text);
  if (Array.isArray(patterns))
    throw new SparseAttentionError('INVALID_ARGUMENT', 'pattern: show one pattern at a time (got an array of per-head patterns)', { field: 'pattern' });
  const pattern = patterns as Pattern;
  const seqQ =
    intFlag(args, 'sq') ??
    (() => {
      throw new SparseAttentionError('INVALID_ARGUMENT', '--sq: is required by "pattern show"', { field: '--sq' });
    })();
  const seqK = intFlag(args, 'sk', seqQ)!;
  const offset = intFlag(args, 'query-offset', seqK - seqQ, -(2 ** 31))!;
  const block = intFlag(args, 'block', seqQ <= 64 && seqK <= 64 ? 4 : 64)!;
  validatePatternForShapes(pattern, { seqQ, seqK, offset, headDim: pattern.kind === 'cluster' ? pattern.centroids[0]!.length : 1 });
  const started = performance.now();
  const mask = compileBlockMask(pattern, { seqQ, seqK, offset }, { blockQ: block, blockK: block });
  const ms = performance.now() - started;
  const states = blockStates(mask);
  const s = mask.stats;
  if (pattern.kind === 'topk' || pattern.kind === 'cluster')
    process.stdout.write(`(content-based: showing its static "within"; the kernel then keeps a data-dependent subset)\n`);
  if (seqQ <= 64 && seqK <= 64) process.stdout.write(`${textGrid(mask)}\n█ allowed  · masked\n`);
  else
    process.stdout.write(
      `${blockGrid(mask, states)}\n# full block  + partial block  . skipped (${block}×${block} tiles${mask.numKBlocks > 96 || mask.numQBlocks > 48 ? ', sampled' : ''})\n`,
    );
  const listed = s.fullBlocks + s.partialBlocks;
  process.stdout.write(
    [
      `Sq=${seqQ} Sk=${seqK} offset=${offset} tiles=${block}×${block}`,
      `allowed pairs (nnz) ${s.nnz}  density ${(s.density * 100).toPrecision(4)}%`,
      `blocks: ${s.fullBlocks} full, ${s.partialBlocks} partial, ${s.skippedBlocks} skipped of ${mask.numQBlocks * mask.numKBlocks} (${((listed / (mask.numQBlocks * mask.numKBlocks)) * 100).toPrecision(3)}% visited)`,
      `block efficiency ${(s.blockEfficiency * 100).toPrecision(4)}%  mask ${s.bytes} bytes  compiled in ${ms.toFixed(1)} ms`,
    ].join('\n') + '\n',
  );
  const png = stringFlag(args, 'png');
  if (png) {
    const pic = picture(mask, states);
    await writeFile(png, encodePng(pic.width, pic.height, pic.rgb));
    process.stdout.write(
      `wrote ${png} (${pic.width}×${pic.height}, ${pic.perElement ? 'one cell per pair' : 'one pixel per block'}: blue full, orange partial, white skipped)\n`,
    );
  }
}
