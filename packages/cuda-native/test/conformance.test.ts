// The golden cases on this backend, through both entry points: host arrays (attention) and resident tensors
// (upload, attentionResident, download: viaResident). Without a GPU (CI, this machine) every case is skipped
// with the probe's reason ("no CUDA device ..."); on a GPU machine (scripts/device-check.sh sets
// SPARSE_CUDA_REQUIRE_DEVICE=1) an unavailable device fails the suite instead, and every case must pass.
// SPARSE_CUDA_PRECISION picks the storage precision (float32 by default; bf16/f16 use the tolerances this
// backend declares).
import { describeConformance } from '@sparse/conformance/vitest';
import { cudaNative, type Precision, TOLERANCES, viaResident } from '../src/index.js';

const precision = (process.env.SPARSE_CUDA_PRECISION ?? 'float32') as Precision;
const requireAvailable = process.env.SPARSE_CUDA_REQUIRE_DEVICE === '1';

describeConformance({
  name: `cuda-native ${precision}`,
  create: () => cudaNative({ precision }),
  tolerance: TOLERANCES[precision],
  requireAvailable,
});

describeConformance({
  name: `cuda-native ${precision} (resident)`,
  create: () => viaResident(cudaNative({ precision })),
  tolerance: TOLERANCES[precision],
  requireAvailable,
});
