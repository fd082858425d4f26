import { fail } from '../errors.js';
import { causal, intersect, local } from './sugar.js';
import type { LocalPattern, Pattern } from './types.js';

/**
 * Converters from other libraries' window parameters. Each states its off-by-one; tests pin them.
 */

/**
 * FlashAttention `window_size=(left, right)` with -1 = unbounded, plus its `causal` flag: key j is allowed iff
 * p - left <= j <= p + right (p = i + Sk - Sq): exactly `local{left, right}`; causal caps right at 0.
 */
export function fromFlashAttention(windowSize: [number, number], options: { causal?: boolean } = {}): Pattern {
  const [left, right] = windowSize;
  for (const [n, w] of [left, right].entries()) {
    if (!Number.isInteger(w) || w < -1) fail('INVALID_PATTERN', `windowSize[${n}]`, 'must be an integer >= -1 (-1 means unbounded)', w);
  }
  const p: LocalPattern = { kind: 'local' };
  if (left >= 0) p.left = left;
  if (right >= 0) p.right = right;
  if (options.causal) p.right = Math.min(p.right ?? 0, 0);
  if (p.left === undefined && p.right === undefined) return { kind: 'dense' };
  if (p.left === undefined && p.right === 0) return causal();
  return p;
}

/**
 * xFormers `LowerTriangularFromBottomRightLocalAttentionMask(window)` and HF `sliding_window` (Mistral, Qwen2):
 * causal, and a key is kept iff p - j < window, i.e. `window` keys including self: left = window - 1.
 */
export function fromSlidingWindow(window: number): LocalPattern {
  if (!Number.isInteger(window) || window < 1) fail('INVALID_PATTERN', 'sliding_window', 'must be a positive integer', window);
  return local(window - 1, 0);
}

/**
 * onnxruntime GroupQueryAttention `local_window_size` (w > 0; -1 = off): causal, and since onnxruntime 1.23 the
 * window counts the query's own token, so w keys including self are kept: left = w - 1, the same as HF's
 * sliding_window (pinned against onnxruntime-node 1.30 in apps/bench). Releases before 1.23 kept w + 1 keys; pass
 * `{ before123: true }` for models run on those.
 */
export function fromOrtLocalWindow(localWindowSize: number, options: { before123?: boolean } = {}): Pattern {
  if (localWindowSize === -1) return causal();
  if (!Number.isInteger(localWindowSize) || localWindowSize < 1)
    fail('INVALID_PATTERN', 'local_window_size', 'must be a positive integer, or -1 for plain causal', localWindowSize);
  return local(options.before123 ? localWindowSize : localWindowSize - 1, 0);
}

/**
 * The original Longformer (allenai) `attention_window` w is one-sided: w keys on each side (local{w, w}).
 * With `dilation` d, keys at distance d, 2d, … w·d on each side (dilated{d, w, w}).
 */
export function fromLongformerWindow(attentionWindow: number, options: { dilation?: number } = {}): Pattern {
  if (!Number.isInteger(attentionWindow) || attentionWindow < 0) fail('INVALID_PATTERN', 'attention_window', 'must be a non-negative integer', attentionWindow);
  const d = options.dilation ?? 1;
  return d > 1 ? { kind: 'dilated', dilation: d, left: attentionWindow, right: attentionWindow } : local(attentionWindow);
}

/**
 * Hugging Face `LongformerConfig.attention_window` w is the total window and must be even: w/2 keys on each side
 * (local{w/2, w/2}), half of what the same number means in the original implementation.
 */
export function fromHfLongformerWindow(attentionWindow: number): LocalPattern {
  if (!Number.isInteger(attentionWindow) || attentionWindow < 0 || attentionWindow % 2 !== 0) {
    fail('INVALID_PATTERN', 'attention_window', 'must be a non-negative even integer (HF splits it w/2 per side)', attentionWindow);
  }
  return local(attentionWindow / 2);
}

/** A causal sliding window expressed as intersect(causal, local) instead of local{w-1, 0} (same pairs). */
export function causalWindowAsIntersection(window: number): Pattern {
  return intersect(causal(), local(window - 1, window - 1));
}
