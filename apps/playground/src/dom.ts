/** A few DOM shortcuts: the app is plain TypeScript and DOM. */

type Attrs = Record<string, string | number | boolean | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string | null)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (k === 'class') el.className = String(v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null) el.append(c);
  return el;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el as T;
}

let uid = 0;
export const nextId = (prefix: string) => `${prefix}-${++uid}`;

/** A labelled input with an error line under it (aria-describedby points at both hint and error). */
export function labelled(
  label: string,
  input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement,
  hint?: string,
): { row: HTMLElement; error: HTMLElement } {
  input.id ||= nextId('f');
  const error = h('p', { class: 'error', id: `${input.id}-error`, role: 'alert', hidden: true });
  const hintEl = hint ? h('span', { class: 'hint', id: `${input.id}-hint` }, hint) : null;
  input.setAttribute('aria-describedby', [hintEl ? hintEl.id : '', error.id].filter(Boolean).join(' '));
  const row = h('div', { class: 'field' }, h('label', { for: input.id }, label), input, hintEl, error);
  return { row, error };
}

export function showError(input: HTMLElement, error: HTMLElement, message: string | null): void {
  error.hidden = message === null;
  error.textContent = message ?? '';
  if (message === null) input.removeAttribute('aria-invalid');
  else input.setAttribute('aria-invalid', 'true');
}

export const fmt = {
  ms: (x: number) => (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0)),
  bytes: (n: number) => (n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`),
  pct: (x: number) => (x >= 0.1 ? `${(x * 100).toFixed(1)} %` : x >= 0.001 ? `${(x * 100).toFixed(2)} %` : `${(x * 100).toExponential(1)} %`),
  count: (n: number) => n.toLocaleString('en-US'),
  flops: (n: number) => (n >= 1e12 ? `${(n / 1e12).toFixed(2)} TFLOP` : n >= 1e9 ? `${(n / 1e9).toFixed(2)} GFLOP` : `${(n / 1e6).toFixed(2)} MFLOP`),
};
