// Device helpers shared by the kernels.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "params.h"

namespace sparse {

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

// Softmax weight of score s under the running max m, both in natural units. Scaling the difference (<= 0) keeps
// finite scores up to FLT_MAX finite; s * log2(e) alone overflows from about 2.36e38.
__device__ __forceinline__ float expFrom(float s, float m) { return exp2f((s - m) * kLog2e); }

// Storage element -> float (exact for every storage type).
template <typename T>
__device__ __forceinline__ float toFloat(T x);
template <>
__device__ __forceinline__ float toFloat<float>(float x) {
  return x;
}
template <>
__device__ __forceinline__ float toFloat<__nv_bfloat16>(__nv_bfloat16 x) {
  return __bfloat162float(x);
}
template <>
__device__ __forceinline__ float toFloat<__half>(__half x) {
  return __half2float(x);
}

// float -> storage element, round to nearest even (as convert.cc on the host).
template <typename T>
__device__ __forceinline__ T fromFloat(float x);
template <>
__device__ __forceinline__ float fromFloat<float>(float x) {
  return x;
}
template <>
__device__ __forceinline__ __nv_bfloat16 fromFloat<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}
template <>
__device__ __forceinline__ __half fromFloat<__half>(float x) {
  return __float2half_rn(x);
}

struct HeadInfo {
  int b, h, hk, mode, param;
  const int* rowPtr;      // this head's mask: numQBlocks + 1 entries (relative to colIdx/partialIdx base)
  const int* colIdx;      // base of this mask's colIdx
  const int* partialIdx;  // base of this mask's partialIdx
  const uint32_t* bits;   // base of this mask's bit tiles
  const double* centroids;
};

__device__ __forceinline__ HeadInfo headInfo(const AttnParams& p, int bh) {
  HeadInfo hi;
  hi.b = bh / p.headsQ;
  hi.h = bh - hi.b * p.headsQ;
  hi.hk = hi.h / p.group;
  const int* d = p.heads + hi.h * HEAD_WORDS;
  hi.rowPtr = p.rowPtr + d[HEAD_ROW_PTR];
  hi.colIdx = p.colIdx + d[HEAD_COL_IDX];
  hi.partialIdx = p.partialIdx + d[HEAD_COL_IDX];
  hi.bits = p.bits + d[HEAD_BITS];
  hi.mode = d[HEAD_MODE];
  hi.param = d[HEAD_PARAM];
  hi.centroids = p.centroids ? p.centroids + d[HEAD_CENTROIDS] : nullptr;
  return hi;
}

// The exact top-k score: float64, products of float inputs are exact, summed in index order, times scale.
// Bit-identical wherever it is evaluated (selection pass and fused pass), and equal to core's reference.
template <typename K>
__device__ __forceinline__ double score64(const float* q, const K* k, int D, double scale) {
  double s = 0.0;
  for (int d = 0; d < D; d++) s = __dadd_rn(s, __dmul_rn((double)q[d], (double)toFloat<K>(k[d])));
  s = __dmul_rn(s, scale);
  return s + 0.0;  // -0 -> +0, so ordering and equality agree
}

}  // namespace sparse
