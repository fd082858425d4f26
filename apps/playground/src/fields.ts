import { SparseAttentionError } from './sparse.js';

/** A form field of a preset: the text the user typed is parsed by kind, and errors name the field. */
export type FieldKind = 'int' | 'optInt' | 'bool' | 'ints' | 'json';

export interface Field {
  name: string;
  label: string;
  kind: FieldKind;
  hint?: string;
}

function bad(field: string, problem: string, text: string): never {
  throw new SparseAttentionError('INVALID_PATTERN', `${field}: ${problem} (got ${JSON.stringify(text)})`, { field });
}

/** Numbers are passed to core as typed, so core's own validation speaks about them; only non-numbers stop here. */
function number(field: string, text: string): number {
  const t = text.trim();
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t)) bad(field, 'must be a number', text);
  return Number(t);
}

export function parseField(f: Field, text: string): unknown {
  switch (f.kind) {
    case 'int':
      return number(f.name, text);
    case 'optInt':
      return text.trim() === '' ? undefined : number(f.name, text);
    case 'bool':
      return text === 'true';
    case 'ints':
      return text.trim() === '' ? [] : text.split(',').map((s) => number(f.name, s));
    case 'json':
      if (text.trim() === '') return undefined;
      try {
        return JSON.parse(text);
      } catch (e) {
        return bad(f.name, `is not valid JSON: ${(e as Error).message}`, text);
      }
  }
}

/** The text a value shows in its field. */
export function formatField(f: Field, value: unknown): string {
  if (value === undefined || value === null) return f.kind === 'bool' ? 'false' : '';
  if (f.kind === 'ints' && Array.isArray(value)) return value.join(', ');
  if (f.kind === 'json') return JSON.stringify(value);
  return String(value);
}

/**
 * The form field an error's `field` names, if any: `pattern.left` → `left`, `pattern.tokens[3]` → `tokens`,
 * `longformer.attentionWindow` → `attentionWindow`, `pattern.within.left` → `within`.
 */
export function fieldOfError(errorField: string | undefined, fields: readonly Field[]): string | null {
  if (!errorField) return null;
  const parts = errorField.split(/[.[\]]+/).filter((s) => s !== '' && !/^\d+$/.test(s));
  const names = new Set(fields.map((f) => f.name));
  if (parts[0] === 'pattern') {
    // The first named part after the root decides: `pattern.within.left` belongs to the `within` field.
    const next = parts[1];
    return next !== undefined && names.has(next) ? next : null;
  }
  for (const p of parts) if (names.has(p)) return p;
  return null;
}
