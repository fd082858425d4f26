import { type Field, fieldOfError, parseField } from './fields.js';
import { type BuildContext, PRESETS, type Preset, presetById } from './presets.js';
import { isSparseAttentionError, type Pattern, SparseAttentionError, validatePattern, validatePatternForShapes } from './sparse.js';
import type { HeadState } from './state.js';

/** An error to show: core's message, and where it goes (a form field of the preset, or the JSON box). */
export interface ShownError {
  message: string;
  code: string;
  /** Core's `field` (`pattern.left`, `longformer.attentionWindow`, …). */
  coreField: string | undefined;
  /** The form field it names, or null for the JSON box. */
  formField: string | null;
}

function shown(e: unknown, fields: readonly Field[]): ShownError {
  if (isSparseAttentionError(e)) return { message: e.message, code: e.code, coreField: e.field, formField: fieldOfError(e.field, fields) };
  return { message: String((e as Error)?.message ?? e), code: 'INTERNAL', coreField: undefined, formField: null };
}

/** Preset + form values → pattern JSON text, or the error at the field that caused it. */
export function buildPattern(preset: Preset, params: Record<string, string>, ctx: BuildContext): { json: string } | { error: ShownError } {
  try {
    const values: Record<string, unknown> = {};
    for (const f of preset.fields) values[f.name] = parseField(f, params[f.name] ?? preset.defaults[f.name] ?? '');
    const pattern = preset.build(values, ctx);
    validatePattern(pattern, 'pattern');
    return { json: JSON.stringify(pattern) };
  } catch (e) {
    return { error: shown(e, preset.fields) };
  }
}

/** JSON text → a pattern valid for the picture's sizes, or the error (shown at the preset's field when it names one). */
export function checkPattern(json: string, preset: Preset, ctx: BuildContext): { pattern: Pattern } | { error: ShownError } {
  try {
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch (e) {
      throw new SparseAttentionError('INVALID_PATTERN', `pattern: is not valid JSON: ${(e as Error).message}`, { field: 'pattern' });
    }
    validatePattern(value, 'pattern');
    validatePatternForShapes(value, { seqQ: ctx.sq, seqK: ctx.sk, offset: ctx.sk - ctx.sq, headDim: ctx.d }, 'pattern');
    return { pattern: value };
  } catch (e) {
    return { error: shown(e, preset.fields) };
  }
}

/**
 * After the JSON was edited: keep the preset when its form still produces this pattern, else the first preset
 * whose fields can express it (its form values filled in), else the custom one.
 */
export function presetForJson(head: HeadState, json: string, ctx: BuildContext): { preset: string; params: Record<string, string> } {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return { preset: head.preset, params: head.params };
  }
  const current = presetById(head.preset);
  const rebuilt = buildPattern(current, head.params, ctx);
  if ('json' in rebuilt && rebuilt.json === JSON.stringify(value)) return { preset: head.preset, params: head.params };
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const order = current.fromPattern ? [current, ...PRESETS.filter((p) => p !== current)] : PRESETS;
    for (const p of order) {
      const params = p.fromPattern?.(value as Record<string, unknown>);
      if (params) return { preset: p.id, params };
    }
  }
  return { preset: 'custom', params: {} };
}

/** A head made from a preset's defaults. */
export function headFromPreset(id: string, ctx: BuildContext): HeadState {
  const preset = presetById(id);
  const params = { ...preset.defaults };
  const built = buildPattern(preset, params, ctx);
  return { preset: preset.id, params, json: 'json' in built ? built.json : '{"kind":"dense"}' };
}

/** Pretty JSON for the text box (short arrays stay on one line). */
export function prettyJson(json: string): string {
  try {
    const text = JSON.stringify(JSON.parse(json), null, 2);
    return text.replace(/\[\s+([-\d.,\s]+?)\s+\]/g, (_, inner: string) => `[${inner.split(/,\s*/).join(', ')}]`);
  } catch {
    return json;
  }
}
