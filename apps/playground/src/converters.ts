import { byId, h, labelled, showError } from './dom.js';
import { contextOf } from './editor.js';
import { presetForJson } from './pattern.js';
import {
  fromFlashAttention,
  fromHfLongformerWindow,
  fromLongformerWindow,
  fromOrtLocalWindow,
  fromSlidingWindow,
  isSparseAttentionError,
  type Pattern,
} from './sparse.js';
import type { Store } from './store.js';

interface Input {
  name: string;
  label: string;
  value: string;
  kind: 'int' | 'bool';
}

interface Converter {
  id: string;
  title: string;
  inputs: Input[];
  convert(v: Record<string, number | boolean>): Pattern;
  /** The off-by-one, in one sentence (docs/patterns.md, Converters). */
  why: string;
}

const CONVERTERS: Converter[] = [
  {
    id: 'flash',
    title: 'FlashAttention window_size=(left, right)',
    inputs: [
      { name: 'left', label: 'window_size[0]', value: '128', kind: 'int' },
      { name: 'right', label: 'window_size[1]', value: '0', kind: 'int' },
      { name: 'causal', label: 'causal', value: 'false', kind: 'bool' },
    ],
    convert: (v) => fromFlashAttention([v.left as number, v.right as number], { causal: v.causal as boolean }),
    why: 'Keeps p − left ≤ j ≤ p + right, so (l, r) is exactly local{l, r} (−1 = unbounded); causal caps right at 0.',
  },
  {
    id: 'hf',
    title: 'HF / xFormers sliding_window (Mistral, Qwen2)',
    inputs: [{ name: 'w', label: 'sliding_window', value: '4096', kind: 'int' }],
    convert: (v) => fromSlidingWindow(v.w as number),
    why: 'Keeps p − j < w, causal: w keys counting the query itself, so left = w − 1, not w.',
  },
  {
    id: 'ort',
    title: 'onnxruntime GroupQueryAttention local_window_size',
    inputs: [
      { name: 'w', label: 'local_window_size', value: '4096', kind: 'int' },
      { name: 'before123', label: 'onnxruntime before 1.23', value: 'false', kind: 'bool' },
    ],
    convert: (v) => fromOrtLocalWindow(v.w as number, { before123: v.before123 as boolean }),
    why: 'Since 1.23 it keeps keys p − w + 1 … p (w keys with self, left = w − 1, like HF); releases before 1.23 kept w + 1 (left = w); −1 is plain causal.',
  },
  {
    id: 'longformer',
    title: 'Longformer (allenai) attention_window',
    inputs: [
      { name: 'w', label: 'attention_window', value: '256', kind: 'int' },
      { name: 'dilation', label: 'attention_dilation', value: '1', kind: 'int' },
    ],
    convert: (v) => fromLongformerWindow(v.w as number, { dilation: v.dilation as number }),
    why: 'The original implementation’s w is one-sided: w keys on each side, local{w, w} (dilated{d, w, w} with a dilation).',
  },
  {
    id: 'hfLongformer',
    title: 'HF LongformerConfig.attention_window',
    inputs: [{ name: 'w', label: 'attention_window', value: '512', kind: 'int' }],
    convert: (v) => fromHfLongformerWindow(v.w as number),
    why: 'HF’s w is the total window and must be even: w/2 keys per side, local{w/2, w/2}, half of what the same number means in the original.',
  },
];

function keysPerRow(p: Pattern): string {
  if (p.kind === 'local') return p.left === undefined || p.right === undefined ? 'unbounded' : `${p.left + 1 + p.right} keys per interior query`;
  if (p.kind === 'dilated') return p.left === undefined || p.right === undefined ? 'unbounded' : `${p.left + 1 + p.right} keys per interior query`;
  return p.kind === 'causal' ? 'every earlier key' : 'every key';
}

/** The window converters: other libraries' parameters in, core's pattern out, with the off-by-one said. */
export function mountConverters(store: Store): void {
  const root = byId('converters');
  root.append(
    h('h2', {}, 'Window converters'),
    h('p', { class: 'note' }, 'Other libraries’ window parameters, converted by core; “use” puts the pattern in the editor.'),
  );
  for (const c of CONVERTERS) {
    const out = h('code', { class: 'converted', id: `conv-${c.id}-out` });
    const rows = h('div', { class: 'fields inline-fields' });
    const inputs = new Map<string, { el: HTMLInputElement | HTMLSelectElement; error: HTMLElement }>();
    for (const i of c.inputs) {
      const el =
        i.kind === 'bool'
          ? h('select', { id: `conv-${c.id}-${i.name}` }, h('option', { value: 'false' }, 'no'), h('option', { value: 'true' }, 'yes'))
          : h('input', { id: `conv-${c.id}-${i.name}`, type: 'text', inputmode: 'numeric', autocomplete: 'off' });
      el.value = i.value;
      const f = labelled(i.label, el);
      inputs.set(i.name, { el, error: f.error });
      rows.append(f.row);
    }
    const use = h('button', { type: 'button', id: `conv-${c.id}-use` }, 'use');
    let current: Pattern | null = null;
    const update = () => {
      const v: Record<string, number | boolean> = {};
      for (const i of c.inputs) {
        const text = inputs.get(i.name)!.el.value.trim();
        v[i.name] = i.kind === 'bool' ? text === 'true' : text === '' ? Number.NaN : Number(text);
      }
      for (const { el, error } of inputs.values()) showError(el, error, null);
      try {
        current = c.convert(v);
        out.textContent = `→ ${JSON.stringify(current)}: ${keysPerRow(current)}`;
        use.disabled = false;
      } catch (e) {
        current = null;
        out.textContent = '';
        use.disabled = true;
        const field = isSparseAttentionError(e) ? (e.field ?? '') : '';
        // Core names the library's parameter (`windowSize[1]`, `sliding_window`, …): the input with that label.
        const target =
          c.inputs.find((i) => i.label === field || field === `windowSize[${i.name === 'left' ? 0 : 1}]`) ?? c.inputs.find((i) => i.kind === 'int')!;
        const { el, error } = inputs.get(target.name)!;
        showError(el, error, (e as Error).message);
      }
    };
    for (const { el } of inputs.values()) el.addEventListener('input', update);
    use.addEventListener('click', () => {
      if (!current) return;
      const s = store.state;
      const json = JSON.stringify(current);
      const head = s.heads[s.head]!;
      const { preset, params } = presetForJson(head, json, contextOf(s));
      const heads = s.heads.slice();
      heads[s.head] = { preset, params, json };
      store.set({ ...s, heads }, 'load');
    });
    root.append(
      h(
        'section',
        { class: 'converter', 'aria-labelledby': `conv-${c.id}-title` },
        h('h3', { id: `conv-${c.id}-title` }, c.title),
        rows,
        out,
        h('p', { class: 'why' }, c.why),
        use,
      ),
    );
    update();
  }
}
