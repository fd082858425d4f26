import { BACKEND_LABELS } from './backends.js';
import { drawChart, type Point } from './chart.js';
import { codeFor } from './codegen.js';
import { byId, fmt, h, labelled, showError } from './dom.js';
import { type RunResult, type RunRow, runAll } from './run.js';
import { isSparseAttentionError, type Pattern } from './sparse.js';
import { BACKEND_IDS, type BackendId, type RunState } from './state.js';
import type { Store } from './store.js';

type NumKey = 'b' | 'h' | 'hkv' | 'sq' | 'sk' | 'd';
const NUMS: [NumKey, string][] = [
  ['b', 'B'],
  ['h', 'H'],
  ['hkv', 'Hkv'],
  ['sq', 'Sq'],
  ['sk', 'Sk'],
  ['d', 'D'],
];

/** The run panel's input a core error field names (`q.shape[1]` is H in bhsd, Sq in bshd). */
function inputOfError(field: string | undefined, layout: RunState['layout']): NumKey | null {
  const m = /^([qkv])\.shape\[(\d)\]/.exec(field ?? '');
  if (!m) return field?.startsWith('pattern') ? 'h' : null;
  const axis = Number(m[2]);
  const order: NumKey[] =
    m[1] === 'q' ? (layout === 'bhsd' ? ['b', 'h', 'sq', 'd'] : ['b', 'sq', 'h', 'd']) : layout === 'bhsd' ? ['b', 'hkv', 'sk', 'd'] : ['b', 'sk', 'hkv', 'd'];
  return order[axis] ?? null;
}

/** The patterns of the run: one for every head, or the per-head list. */
export function runPattern(store: Store): Pattern | Pattern[] {
  const parsed = store.state.heads.map((x) => JSON.parse(x.json) as Pattern);
  return parsed.length === 1 ? parsed[0]! : parsed;
}

export interface RunInfo {
  running: boolean;
  last: RunResult | null;
  runs: number;
}

/** Inputs, the Run button, the results table, the chart of time vs N and "copy as code". */
export function mountRunPanel(store: Store): RunInfo {
  const root = byId('run');
  const info: RunInfo = { running: false, last: null, runs: 0 };
  const nums = new Map<NumKey, { input: HTMLInputElement; error: HTMLElement }>();
  const grid = h('div', { class: 'fields run-fields' });
  for (const [key, label] of NUMS) {
    const input = h('input', { type: 'number', min: 1, id: `run-${key}` });
    const f = labelled(label, input);
    nums.set(key, { input, error: f.error });
    input.addEventListener('change', () => {
      const n = Math.round(Number(input.value));
      if (Number.isFinite(n) && n >= 1) store.set({ ...store.state, run: { ...store.state.run, [key]: n } }, 'run-params');
    });
    grid.append(f.row);
  }
  const layout = h('select', { id: 'run-layout' }, h('option', { value: 'bhsd' }, 'bhsd'), h('option', { value: 'bshd' }, 'bshd'));
  layout.addEventListener('change', () => store.set({ ...store.state, run: { ...store.state.run, layout: layout.value as RunState['layout'] } }, 'run-params'));
  grid.append(labelled('layout', layout).row);
  const dense = h('input', { type: 'checkbox', id: 'run-dense' });
  dense.addEventListener('change', () => store.set({ ...store.state, run: { ...store.state.run, dense: dense.checked } }, 'run-params'));
  const denseRow = labelled('also time dense attention (speedup)', dense);
  denseRow.row.classList.add('inline', 'check');

  const boxes = new Map<BackendId, HTMLInputElement>();
  const fieldset = h('fieldset', { class: 'backends' }, h('legend', {}, 'Backends'));
  for (const id of BACKEND_IDS) {
    const box = h('input', { type: 'checkbox', id: `backend-${id}`, value: id });
    box.addEventListener('change', () => {
      const chosen = BACKEND_IDS.filter((x) => boxes.get(x)!.checked);
      store.set({ ...store.state, run: { ...store.state.run, backends: chosen } }, 'run-params');
    });
    boxes.set(id, box);
    fieldset.append(h('div', { class: 'check' }, box, h('label', { for: box.id }, BACKEND_LABELS[id])));
  }

  const runButton = h('button', { type: 'button', id: 'run-button', class: 'primary' }, 'Run');
  const progress = h('progress', { id: 'run-progress', max: 1, value: 0, 'aria-label': 'Run progress' });
  const status = h('p', { id: 'run-status', class: 'status', 'aria-live': 'polite' });
  const runError = h('p', { id: 'run-error', class: 'error', role: 'alert', hidden: true });
  const table = h('table', { id: 'results' });
  const chart = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  chart.id = 'chart';
  chart.setAttribute('role', 'img');
  chart.setAttribute('aria-label', 'Time against N of the last runs, one line per backend');
  const codeBackend = h('select', { id: 'code-backend' }, ...BACKEND_IDS.map((id) => h('option', { value: id }, id)));
  const copy = h('button', { type: 'button', id: 'copy-code' }, 'Copy as code');
  const code = h('textarea', {
    id: 'code',
    readonly: true,
    rows: 14,
    spellcheck: 'false',
    'aria-label': 'Code for the current pattern and backend',
    hidden: true,
  });
  const copied = h('span', { id: 'copy-status', class: 'hint', 'aria-live': 'polite' });

  root.append(
    h('h2', {}, 'Run'),
    grid,
    denseRow.row,
    fieldset,
    h('div', { class: 'run-bar' }, runButton, progress, status),
    runError,
    table,
    h('h3', {}, 'Time vs N (last runs)'),
    chart,
    h('div', { class: 'code-bar' }, labelled('code for', codeBackend).row, copy, copied),
    code,
  );

  const history: Point[] = [];
  drawChart(chart, history);

  const renderRows = (rows: RunRow[]) => {
    const head = h(
      'tr',
      {},
      ...['backend', 'status', 'time', 'GFLOP/s', 'dense', 'speedup', 'max |err|', 'device / reason'].map((t) => h('th', { scope: 'col' }, t)),
    );
    const body = rows.map((r) => {
      const err = r.maxErr === undefined ? '' : r.maxErr.toExponential(2);
      return h(
        'tr',
        { id: `result-${r.id}`, 'data-status': r.status, 'data-max-err': r.maxErr === undefined ? '' : String(r.maxErr) },
        h('th', { scope: 'row' }, r.id),
        h('td', { class: 'status-cell' }, r.phase ? `${r.status}: ${r.phase}` : r.status),
        h('td', { class: 'num' }, r.ms === undefined ? '' : `${fmt.ms(r.ms)} ms`),
        h('td', { class: 'num' }, r.gflops === undefined ? '' : r.gflops.toFixed(2)),
        h('td', { class: 'num' }, r.denseMs === undefined ? '' : `${fmt.ms(r.denseMs)} ms`),
        h('td', { class: 'num' }, r.speedup === undefined ? '' : `${r.speedup.toFixed(2)}×`),
        h('td', { class: 'num max-err' }, err),
        h('td', { class: 'reason' }, r.reason ?? r.device ?? ''),
      );
    });
    table.replaceChildren(h('thead', {}, head), h('tbody', {}, ...body));
  };

  const clearErrors = () => {
    for (const { input, error } of nums.values()) showError(input, error, null);
    showError(runButton, runError, null);
  };

  runButton.addEventListener('click', async () => {
    if (info.running) return;
    clearErrors();
    const s = store.state;
    let pattern: Pattern | Pattern[];
    try {
      pattern = runPattern(store);
    } catch {
      showError(runButton, runError, 'The pattern JSON is not valid: fix it in the editor first.');
      return;
    }
    info.running = true;
    runButton.disabled = true;
    status.textContent = 'running…';
    try {
      const result = await runAll(s.run, pattern, (rows, done, total) => {
        progress.max = total;
        progress.value = done;
        renderRows(rows);
      });
      info.last = result;
      for (const r of result.rows) if (r.ms !== undefined) history.push({ id: r.id, n: s.run.sk, ms: r.ms });
      history.splice(0, Math.max(0, history.length - 48));
      drawChart(chart, history);
      status.textContent = `done: ${fmt.count(result.nnz)}${result.nnzBound ? ' (at most)' : ''} allowed pairs, error over ${result.samples} sampled rows against core's float64 reference`;
    } catch (e) {
      const where = isSparseAttentionError(e) ? inputOfError(e.field, s.run.layout) : null;
      const msg = isSparseAttentionError(e) ? `${e.code}: ${e.message}` : String((e as Error)?.message ?? e);
      if (where) showError(nums.get(where)!.input, nums.get(where)!.error, msg);
      else showError(runButton, runError, msg);
      status.textContent = 'not run';
    } finally {
      info.running = false;
      info.runs++;
      runButton.disabled = false;
    }
  });

  const showCode = () => {
    try {
      code.value = codeFor(runPattern(store), store.state.run, codeBackend.value as BackendId);
    } catch {
      code.value = '// The pattern JSON is not valid: fix it in the editor first.';
    }
  };
  copy.addEventListener('click', async () => {
    showCode();
    code.hidden = false;
    try {
      await navigator.clipboard.writeText(code.value);
      copied.textContent = 'copied to the clipboard';
    } catch {
      code.select();
      copied.textContent = 'select and copy it below';
    }
  });
  codeBackend.addEventListener('change', () => {
    if (!code.hidden) showCode();
  });

  const sync = (r: RunState) => {
    for (const [key, { input }] of nums) if (document.activeElement !== input) input.value = String(r[key]);
    layout.value = r.layout;
    dense.checked = r.dense;
    for (const [id, box] of boxes) box.checked = r.backends.includes(id);
    if (!r.backends.includes(codeBackend.value as BackendId) && r.backends.length) codeBackend.value = r.backends[0]!;
  };
  store.subscribe((s) => {
    sync(s.run);
    if (!code.hidden) showCode();
  });
  sync(store.state.run);
  renderRows(store.state.run.backends.map((id) => ({ id, status: 'waiting' })));
  return info;
}
