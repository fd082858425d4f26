#!/usr/bin/env node
// Writes native/head_table.h, the head-table layout the kernels and the argument checks read (HEAD_ROW_PTR …
// HEAD_WORDS, MODE_STATIC / MODE_TOPK / MODE_CLUSTER), from @sparse/core's one definition (headTableSource('c')).
// scripts/build-native.mjs runs it before any compiler; the header ships in the package's files so that a
// build from the installed package has it even where @sparse/core cannot be imported.
//
//   node scripts/head-table.mjs [--check]      write the header (--check: exit 1 if it is missing or stale)
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const HEAD_TABLE_HEADER = join(pkgDir, 'native', 'head_table.h');

/** The header's text, from core's definition; null (with the reason) when @sparse/core cannot be imported. */
export async function headTableHeader() {
  try {
    const { headTableSource } = await import('@sparse/core/backend');
    return { text: headTableSource('c') };
  } catch (e) {
    return { text: null, reason: `@sparse/core/backend cannot be imported (${e?.message ?? e})` };
  }
}

/**
 * Writes the header when it differs from core's definition. Returns { written, path } or { error } when it can
 * neither be generated nor found (a shipped header is kept when core cannot be imported).
 */
export async function writeHeadTable(path = HEAD_TABLE_HEADER) {
  const { text, reason } = await headTableHeader();
  const current = existsSync(path) ? readFileSync(path, 'utf8') : null;
  if (text === null) return current !== null ? { written: false, path, kept: reason } : { error: `${path} is missing and ${reason}` };
  if (current === text) return { written: false, path };
  writeFileSync(path, text);
  return { written: true, path };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--check')) {
    const { text, reason } = await headTableHeader();
    const current = existsSync(HEAD_TABLE_HEADER) ? readFileSync(HEAD_TABLE_HEADER, 'utf8') : null;
    if (text === null || current !== text) {
      console.error(`head-table: ${HEAD_TABLE_HEADER} is ${current === null ? 'missing' : text === null ? `unchecked: ${reason}` : 'stale'}`);
      process.exit(1);
    }
    console.log(`head-table: ${HEAD_TABLE_HEADER} is up to date`);
  } else {
    const r = await writeHeadTable();
    if (r.error) {
      console.error(`head-table: ${r.error}`);
      process.exit(1);
    }
    console.log(`head-table: ${r.path} ${r.written ? 'written' : r.kept ? `kept (${r.kept})` : 'up to date'}`);
  }
}
