// Golden cases a storage precision cannot be held to. In bf16/f16 the content-based patterns (top-k, cluster)
// select on the rounded storage values: a rounding can flip which key is kept, which no tolerance covers, so
// those cases are pinned in float32 only; f16 cannot hold inputs beyond its range. Shared by the test suite and the
// device check.
import { listCases, loadCase } from '@sparse/conformance';

const F16_MAX = 65504;
const beyondF16 = (m) => {
  const { q, k, v } = loadCase(m).request;
  return [q, k, v].some((t) => t.data.some((x) => Number.isFinite(x) && Math.abs(x) > F16_MAX));
};

export function contentSelectionSkip(precision) {
  if (precision === 'float32') return {};
  const skip = {};
  for (const m of listCases({})) {
    if (m.tags.includes('topk') || m.tags.includes('cluster') || /topk|cluster/.test(m.id))
      skip[m.id] = `${precision}: content-based selection on rounded inputs (pinned in float32)`;
    else if (precision === 'float16' && beyondF16(m))
      skip[m.id] = 'float16: finite inputs beyond the float16 range (65504) are ±Infinity in storage (pinned in float32 and bf16)';
  }
  return skip;
}
