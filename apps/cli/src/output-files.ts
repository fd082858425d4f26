import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SparseAttentionError } from '@sparse/core';

export interface OutputFile {
  path: string;
  bytes: Uint8Array;
  /** The option that named the path, for the error. */
  field: string;
}

function cannotWrite(file: OutputFile, e: unknown): SparseAttentionError {
  const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  return new SparseAttentionError('INVALID_ARGUMENT', `${file.field}: cannot write ${file.path} (${why})`, { field: file.field, cause: e });
}

/**
 * Writes every file or none: each goes to a temporary file beside its target first (same directory, so the rename is
 * atomic), and only when all of them are written are they renamed into place. On any failure nothing new is left.
 */
export async function writeAllOrNothing(files: readonly OutputFile[]): Promise<void> {
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const temps = files.map((f) => join(dirname(f.path), `.${basename(f.path)}.${tag}.tmp`));
  const placed: string[] = [];
  const undo = async () => {
    await Promise.all([...temps, ...placed].map((p) => rm(p, { force: true }).catch(() => undefined)));
  };
  for (const [n, file] of files.entries()) {
    try {
      await writeFile(temps[n]!, file.bytes);
    } catch (e) {
      await undo();
      throw cannotWrite(file, e);
    }
  }
  for (const [n, file] of files.entries()) {
    try {
      await rename(temps[n]!, file.path);
      placed.push(file.path);
    } catch (e) {
      await undo();
      throw cannotWrite(file, e);
    }
  }
}
