// Writes assembly/head-table.ts, the head-table constants of the kernel (HEAD_ROW_PTR, HEAD_WORDS, MODE_TOPK, …),
// from core's one definition of the layout (headTableSource), so the kernel and the host cannot drift apart.
// The file is generated (and ignored by git); the build runs this before compiling the kernel.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { headTableSource } from '@sparse/core/backend';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'assembly', 'head-table.ts');
writeFileSync(out, headTableSource('assemblyscript'));
console.log('built assembly/head-table.ts');
