// Content-based passes (docs/design.md, Content-based patterns): the top-k threshold and tie cut of every query row, and cluster labels of
// every token. Both evaluate scores in float64 exactly as core's reference does, so the selection agrees with
// it bit for bit on float32 inputs; the fused kernel then re-evaluates the same score64() to apply the rule.
#include <climits>

#include "common.cuh"
#include "kernels.h"
#include "smem_limit.h"

namespace sparse {
namespace {

constexpr int NT = 128;

__device__ __forceinline__ unsigned long long orderedBits(double s) {
  const long long b = __double_as_longlong(s);
  return b < 0 ? ~(unsigned long long)b : (unsigned long long)b ^ 0x8000000000000000ull;
}
__device__ __forceinline__ double fromOrdered(unsigned long long u) {
  const unsigned long long b = (u & 0x8000000000000000ull) ? u ^ 0x8000000000000000ull : ~u;
  return __longlong_as_double((long long)b);
}

// One CTA per (query row, b, h): enumerate the `within` candidates of the row from the block mask, then a
// 12-digit radix select (64 bits of ordered score, 32 bits of ~j) finds the k-th key in (score desc, j asc)
// order: its score is the threshold and its j the tie cut. Scores are cached in shared memory when the row's
// candidate slots fit, else recomputed on each pass.
template <typename T>
__global__ void __launch_bounds__(NT, 1) topkSelect(const AttnParams p, double* threshold, int* tieCut, int cacheSlots) {
  extern __shared__ __align__(8) unsigned char smraw[];
  double* cache = reinterpret_cast<double*>(smraw);
  float* qrow = reinterpret_cast<float*>(cache + cacheSlots);
  __shared__ unsigned hist[256];
  __shared__ unsigned long long prefixHi;
  __shared__ unsigned prefixLo;
  __shared__ int remaining;
  __shared__ int candidates;

  const int i = blockIdx.x;
  const int bh = blockIdx.y + p.bhOffset;
  const HeadInfo hi = headInfo(p, bh);
  if (hi.mode != MODE_TOPK) return;
  const int tid = threadIdx.x;
  const int D = p.headDim;
  const int BKm = p.blockK;
  const int qb = i / p.blockQ;
  const int r = i - qb * p.blockQ;
  const int n0 = hi.rowPtr[qb];
  const int slots = (hi.rowPtr[qb + 1] - n0) * BKm;
  const bool cached = slots <= cacheSlots;
  const T* qg = static_cast<const T*>(p.q) + hi.b * p.qB + hi.h * p.qH + (long long)i * p.qS;
  const T* kg = static_cast<const T*>(p.k) + hi.b * p.kB + hi.hk * p.kH;
  for (int d = tid; d < D; d += NT) qrow[d] = toFloat<T>(qg[d]);
  if (tid == 0) candidates = 0;
  __syncthreads();

  // Slot s: listed block n0 + s / BK, column s % BK; valid when the key is in range and its bit is set.
  auto keyOf = [&](int s) -> int {
    const int n = n0 + s / BKm;
    const int c = s - (s / BKm) * BKm;
    const int j = hi.colIdx[n] * BKm + c;
    if (j >= p.seqK) return -1;
    const int P = hi.partialIdx[n];
    if (P >= 0) {
      const uint32_t w = hi.bits[((long long)P * p.blockQ + r) * p.wordsPerRow + (c >> 5)];
      if (!((w >> (c & 31)) & 1u)) return -1;
    }
    return j;
  };
  auto scoreOf = [&](int s, int j) -> double { return cached ? cache[s] : score64<T>(qrow, kg + (long long)j * p.kS, D, p.scale); };

  int count = 0;
  for (int s = tid; s < slots; s += NT) {
    const int j = keyOf(s);
    if (j < 0) continue;
    count++;
    if (cached) cache[s] = score64<T>(qrow, kg + (long long)j * p.kS, D, p.scale);
  }
  atomicAdd(&candidates, count);
  if (tid == 0) {
    prefixHi = 0;
    prefixLo = 0;
    remaining = hi.param;
  }
  __syncthreads();
  const long long out = (long long)bh * p.seqQ + i;
  if (candidates <= hi.param) {
    if (tid == 0) {
      threshold[out] = -INFINITY;
      tieCut[out] = INT_MAX;
    }
    return;
  }

#pragma unroll 1
  for (int pass = 0; pass < 12; pass++) {
    for (int x = tid; x < 256; x += NT) hist[x] = 0;
    __syncthreads();
    const unsigned long long pHi = prefixHi;
    const unsigned pLo = prefixLo;
    for (int s = tid; s < slots; s += NT) {
      const int j = keyOf(s);
      if (j < 0) continue;
      const unsigned long long u = orderedBits(scoreOf(s, j));
      const unsigned lo = ~(unsigned)j;
      unsigned digit;
      if (pass < 8) {
        const int shift = 56 - 8 * pass;
        if (pass > 0 && (u >> (shift + 8)) != (pHi >> (shift + 8))) continue;
        digit = (unsigned)(u >> shift) & 255u;
      } else {
        if (u != pHi) continue;
        const int shift = 24 - 8 * (pass - 8);
        if (pass > 8 && (lo >> (shift + 8)) != (pLo >> (shift + 8))) continue;
        digit = (lo >> shift) & 255u;
      }
      atomicAdd(&hist[digit], 1u);
    }
    __syncthreads();
    if (tid == 0) {
      int cum = 0;
      int need = remaining;
      unsigned chosen = 0;
      for (int d = 255; d >= 0; d--) {
        if (cum + (int)hist[d] >= need) {
          chosen = (unsigned)d;
          need -= cum;
          break;
        }
        cum += (int)hist[d];
      }
      remaining = need;
      if (pass < 8)
        prefixHi |= (unsigned long long)chosen << (56 - 8 * pass);
      else
        prefixLo |= chosen << (24 - 8 * (pass - 8));
    }
    __syncthreads();
  }
  if (tid == 0) {
    threshold[out] = fromOrdered(prefixHi);
    tieCut[out] = (int)~prefixLo;
  }
}

// c(x) = argmax_c <x, unit_c>, ties to the smaller c, in float64 without contraction (as the reference).
template <typename T>
__device__ __forceinline__ int label(const T* x, const double* unit, int C, int D) {
  int best = 0;
  double bestScore = -INFINITY;
  for (int c = 0; c < C; c++) {
    double s = 0.0;
    for (int d = 0; d < D; d++) s = __dadd_rn(s, __dmul_rn((double)toFloat<T>(x[d]), unit[c * D + d]));
    if (s > bestScore) {
      bestScore = s;
      best = c;
    }
  }
  return best;
}

template <typename T>
__global__ void __launch_bounds__(NT) clusterLabels(const AttnParams p, int* labelsQ, int* labelsK) {
  const int bh = blockIdx.y + p.bhOffset;
  const HeadInfo hi = headInfo(p, bh);
  if (hi.mode != MODE_CLUSTER) return;
  const int t = blockIdx.x * NT + threadIdx.x;
  const int C = hi.param;
  const int D = p.headDim;
  if (t < p.seqQ) {
    const T* x = static_cast<const T*>(p.q) + hi.b * p.qB + hi.h * p.qH + (long long)t * p.qS;
    labelsQ[(long long)bh * p.seqQ + t] = label<T>(x, hi.centroids, C, D);
  }
  if (t < p.seqK) {
    const T* x = static_cast<const T*>(p.k) + hi.b * p.kB + hi.hk * p.kH + (long long)t * p.kS;
    labelsK[(long long)bh * p.seqK + t] = label<T>(x, hi.centroids, C, D);
  }
}

template <typename T>
cudaError_t topkT(const AttnParams& p, int bhCount, double* thr, int* tie, int maxSlots, size_t smemOptin, cudaStream_t stream) {
  const size_t fixed = sizeof(float) * (size_t)p.headDim + 4096;  // q row + static shared memory headroom
  size_t budget = smemOptin > fixed ? smemOptin - fixed : 0;
  int slots = (int)(budget / sizeof(double));
  if (slots > maxSlots) slots = maxSlots;
  if (slots < 0) slots = 0;
  const size_t smem = sizeof(double) * (size_t)slots + sizeof(float) * (size_t)p.headDim;
  cudaError_t e = raiseSmemLimit(reinterpret_cast<const void*>(topkSelect<T>));
  if (e != cudaSuccess) return e;
  topkSelect<T><<<dim3(p.seqQ, bhCount), NT, smem, stream>>>(p, thr, tie, slots);
  return cudaGetLastError();
}

template <typename T>
cudaError_t labelsT(const AttnParams& p, int bhCount, int* lq, int* lk, cudaStream_t stream) {
  const int tokens = p.seqQ > p.seqK ? p.seqQ : p.seqK;
  clusterLabels<T><<<dim3((tokens + NT - 1) / NT, bhCount), NT, 0, stream>>>(p, lq, lk);
  return cudaGetLastError();
}

}  // namespace

cudaError_t launchTopkSelect(AttnParams p, int precision, int bhCount, double* thr, int* tie, int maxSlots, size_t smemOptin,
                             cudaStream_t stream) {
  switch (precision) {
    case kFloat32:
      return topkT<float>(p, bhCount, thr, tie, maxSlots, smemOptin, stream);
    case kBFloat16:
      return topkT<__nv_bfloat16>(p, bhCount, thr, tie, maxSlots, smemOptin, stream);
    case kFloat16:
      return topkT<__half>(p, bhCount, thr, tie, maxSlots, smemOptin, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

cudaError_t launchClusterLabels(AttnParams p, int precision, int bhCount, int* lq, int* lk, cudaStream_t stream) {
  switch (precision) {
    case kFloat32:
      return labelsT<float>(p, bhCount, lq, lk, stream);
    case kBFloat16:
      return labelsT<__nv_bfloat16>(p, bhCount, lq, lk, stream);
    case kFloat16:
      return labelsT<__half>(p, bhCount, lq, lk, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace sparse
