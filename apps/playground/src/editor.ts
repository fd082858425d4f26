import { byId, h, labelled, showError } from './dom.js';
import { formatField } from './fields.js';
import { buildPattern, checkPattern, headFromPreset, presetForJson, prettyJson, type ShownError } from './pattern.js';
import { type BuildContext, PRESETS, presetById } from './presets.js';
import type { AppState, HeadState } from './state.js';
import type { Store } from './store.js';

/** Sizes patterns are checked against: the picture's Sq and Sk, the run's D (cluster centroids). */
export const contextOf = (s: AppState): BuildContext => ({ sq: s.view.sq, sk: s.view.sk, d: s.run.d });

/** The pattern editor: preset, its form, the JSON (editable both ways), one pattern per head. */
export function mountEditor(store: Store): void {
  const root = byId('editor');
  const headSelect = h('select', { id: 'head-select' });
  const addHead = h('button', { type: 'button', id: 'head-add' }, '+ head');
  const removeHead = h('button', { type: 'button', id: 'head-remove' }, '− head');
  const presetSelect = h('select', { id: 'preset' });
  for (const group of ['Pattern kinds', 'Published patterns'] as const) {
    const og = h('optgroup', { label: group });
    for (const p of PRESETS.filter((x) => x.group === group)) og.append(h('option', { value: p.id }, p.label));
    presetSelect.append(og);
  }
  const note = h('p', { class: 'note', id: 'preset-note' });
  const form = h('div', { class: 'fields', id: 'preset-fields' });
  const json = h('textarea', { id: 'pattern-json', rows: 10, spellcheck: 'false', autocomplete: 'off' });
  const jsonField = labelled('Pattern JSON', json, 'the pattern itself: edit it or the fields above');
  const headRow = labelled('Head', headSelect);
  headRow.row.classList.add('inline');
  headRow.row.append(addHead, removeHead);
  root.append(
    h('h2', {}, 'Pattern'),
    headRow.row,
    labelled('Preset', presetSelect).row,
    note,
    form,
    jsonField.row,
    h('p', { class: 'hint', id: 'heads-hint' }),
  );

  const inputs = new Map<string, { input: HTMLInputElement | HTMLSelectElement; error: HTMLElement }>();

  const setHead = (head: HeadState, origin: string, extra: Partial<AppState> = {}) => {
    const s = store.state;
    const heads = s.heads.slice();
    heads[s.head] = head;
    store.set({ ...s, ...extra, heads }, origin);
  };

  const showErrors = (err: ShownError | null) => {
    for (const [name, { input, error }] of inputs) showError(input, error, err && err.formField === name ? err.message : null);
    showError(json, jsonField.error, err && err.formField === null ? err.message : null);
  };

  /** Validates the JSON of the head on show and puts core's error where its field points. */
  const validate = () => {
    const s = store.state;
    const r = checkPattern(store.head.json, presetById(store.head.preset), contextOf(s));
    showErrors('error' in r ? r.error : null);
  };

  const renderForm = () => {
    const head = store.head;
    const preset = presetById(head.preset);
    presetSelect.value = preset.id;
    note.textContent = preset.note;
    form.replaceChildren();
    inputs.clear();
    for (const f of preset.fields) {
      let input: HTMLInputElement | HTMLSelectElement;
      if (f.kind === 'bool') {
        input = h('select', { name: f.name }, h('option', { value: 'false' }, 'no'), h('option', { value: 'true' }, 'yes'));
      } else {
        input = h('input', { name: f.name, type: 'text', autocomplete: 'off', spellcheck: 'false', inputmode: f.kind === 'json' ? undefined : 'numeric' });
      }
      input.id = `field-${f.name}`;
      input.value = head.params[f.name] ?? preset.defaults[f.name] ?? formatField(f, undefined);
      const { row, error } = labelled(f.name, input, f.hint);
      input.addEventListener('input', () => onField(f.name, input.value));
      inputs.set(f.name, { input, error });
      form.append(row);
    }
    if (!preset.fields.length) form.append(h('p', { class: 'hint' }, 'No fields: edit the JSON.'));
  };

  const renderHeads = () => {
    const s = store.state;
    headSelect.replaceChildren(...s.heads.map((_, n) => h('option', { value: String(n) }, `${n} of ${s.heads.length}`)));
    headSelect.value = String(s.head);
    removeHead.disabled = s.heads.length < 2;
    byId('heads-hint').textContent =
      s.heads.length > 1
        ? `${s.heads.length} heads, one pattern each: a run needs H = ${s.heads.length}.`
        : 'One pattern for every head; “+ head” gives each query head its own.';
  };

  const renderAll = () => {
    renderHeads();
    renderForm();
    json.value = prettyJson(store.head.json);
    validate();
  };

  function onField(name: string, value: string) {
    const head = store.head;
    const params = { ...head.params, [name]: value };
    const built = buildPattern(presetById(head.preset), params, contextOf(store.state));
    if ('error' in built) {
      setHead({ ...head, params }, 'editor-field');
      showErrors(built.error);
      return;
    }
    setHead({ ...head, params, json: built.json }, 'editor-field');
    json.value = prettyJson(built.json);
    validate();
  }

  json.addEventListener('input', () => {
    const head = store.head;
    const text = json.value;
    const { preset, params } = presetForJson(head, text, contextOf(store.state));
    const changedPreset = preset !== head.preset;
    setHead({ preset, params, json: text }, 'editor-json');
    if (changedPreset) renderForm();
    else for (const [name, { input }] of inputs) if (params[name] !== undefined && input.value !== params[name]) input.value = params[name]!;
    validate();
  });

  presetSelect.addEventListener('change', () => {
    const s = store.state;
    const fresh = headFromPreset(presetSelect.value, contextOf(s));
    const view = presetById(fresh.preset).view;
    const nextView = view ? { ...s.view, sq: view.sq, sk: view.sk, zoom: 1, cq: view.sq / 2, ck: view.sk / 2 } : s.view;
    setHead(fresh, 'editor-preset', { view: nextView });
    renderAll();
  });

  headSelect.addEventListener('change', () => {
    store.set({ ...store.state, head: Number(headSelect.value) }, 'editor-head');
    renderAll();
  });
  addHead.addEventListener('click', () => {
    const s = store.state;
    const heads = [...s.heads, { ...s.heads[s.head]! }];
    store.set({ ...s, heads, head: heads.length - 1, run: { ...s.run, h: heads.length, hkv: s.run.h % heads.length === 0 ? s.run.hkv : 1 } }, 'editor-head');
    renderAll();
  });
  removeHead.addEventListener('click', () => {
    const s = store.state;
    if (s.heads.length < 2) return;
    const heads = s.heads.filter((_, n) => n !== s.head);
    store.set(
      { ...s, heads, head: Math.min(s.head, heads.length - 1), run: { ...s.run, h: heads.length > 1 ? heads.length : s.run.h, hkv: 1 } },
      'editor-head',
    );
    renderAll();
  });

  store.subscribe((_, origin) => {
    if (origin === 'load') renderAll();
    else if (origin === 'view' || origin === 'run-params') validate();
  });
  renderAll();
}
