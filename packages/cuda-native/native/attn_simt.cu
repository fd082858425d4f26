// The CUDA-core fused kernel: any storage type, any head dims up to 256, every pattern mode (static masks,
// top-k with exact float64 selection scores, cluster labels). float32 loads, float32 online softmax.
// Tile: 32 query rows x 32 keys, 256 threads (8 per query row).
#include <cfloat>

#include "common.cuh"
#include "kernels.h"
#include "smem_limit.h"

namespace sparse {
namespace {

constexpr int BQ = 32;
constexpr int BK = 32;
constexpr int NT = 256;
constexpr int MAXV = kMaxHeadDim / 8;  // output columns per thread

__host__ __device__ inline int oddStride(int d) { return d | 1; }

template <typename T>
__device__ __forceinline__ void loadRows(float* sm, int stride, const T* g, long long rowStride, int rows, int cols, int tid) {
  const int total = BQ * cols;
  for (int e = tid; e < total; e += NT) {
    const int r = e / cols;
    const int c = e - r * cols;
    sm[r * stride + c] = r < rows ? toFloat<T>(g[r * rowStride + c]) : 0.f;
  }
}

template <typename T>
__global__ void __launch_bounds__(NT, 1) attnSimt(const AttnParams p) {
  extern __shared__ float smem[];
  const int D = p.headDim;
  const int Dv = p.headDimV;
  const int QS = oddStride(D);
  const int KVS = oddStride(D > Dv ? D : Dv);
  float* Qs = smem;
  float* KVs = Qs + BQ * QS;
  float* Ps = KVs + BK * KVS;  // [BQ][BK + 1]

  const int tid = threadIdx.x;
  const int r = tid >> 3;
  const int l8 = tid & 7;
  const int qb = blockIdx.x;
  const int bh = blockIdx.y + p.bhOffset;
  const HeadInfo hi = headInfo(p, bh);
  const int i0 = qb * BQ;
  const int i = i0 + r;
  const T* q = static_cast<const T*>(p.q) + hi.b * p.qB + hi.h * p.qH;
  const T* k = static_cast<const T*>(p.k) + hi.b * p.kB + hi.hk * p.kH;
  const T* v = static_cast<const T*>(p.v) + hi.b * p.vB + hi.hk * p.vH;

  loadRows<T>(Qs, QS, q + (long long)i0 * p.qS, p.qS, min(BQ, p.seqQ - i0), D, tid);

  const bool rowOk = i < p.seqQ;
  const long long rowIndex = (long long)bh * p.seqQ + (rowOk ? i : 0);
  double thr = 0.0;
  int tie = 0;
  int labelQ = 0;
  if (hi.mode == MODE_TOPK) {
    thr = p.topkThreshold[rowIndex];
    tie = p.topkTieCut[rowIndex];
  } else if (hi.mode == MODE_CLUSTER) {
    labelQ = p.labelsQ[rowIndex];
  }
  const int* labelsK = hi.mode == MODE_CLUSTER ? p.labelsK + (long long)bh * p.seqK : nullptr;

  float acc[MAXV];
#pragma unroll
  for (int m = 0; m < MAXV; m++) acc[m] = 0.f;
  float mRow = -INFINITY;
  float lRow = 0.f;
  // The non-finite rule: a score beyond float32 among the keys the row attends (top-k: every candidate), or a
  // non-finite v of a kept key, makes the whole row NaN. Each of the row's 8 threads sees part; reduced at the end.
  bool bad = false;
  const float scaleF = (float)p.scale;

  const int n0 = hi.rowPtr[qb];
  const int n1 = hi.rowPtr[qb + 1];
  for (int n = n0; n < n1; n++) {
    const int j0 = hi.colIdx[n] * BK;
    const int P = hi.partialIdx[n];
    const int kRows = min(BK, p.seqK - j0);
    __syncthreads();
    loadRows<T>(KVs, KVS, k + (long long)j0 * p.kS, p.kS, kRows, D, tid);
    __syncthreads();

    uint32_t word = 0xffffffffu;
    if (P >= 0) word = hi.bits[((long long)P * BQ + r) * p.wordsPerRow];
    float s[4];
    unsigned kept = 0;  // bit mm: key l8 + 8·mm is kept
    float mBlock = -INFINITY;
#pragma unroll
    for (int mm = 0; mm < 4; mm++) {
      const int c = l8 + 8 * mm;
      const int j = j0 + c;
      const bool candidate = c < kRows && ((word >> c) & 1u);
      bool allowed = candidate;
      if (allowed && labelsK) allowed = labelsK[j] == labelQ;
      float sc;
      if (hi.mode == MODE_TOPK) {
        const double s64 = score64<float>(Qs + r * QS, KVs + c * KVS, D, p.scale);
        if (candidate && !(fabs(s64) <= (double)FLT_MAX)) bad = true;
        allowed = allowed && (s64 > thr || (s64 == thr && j <= tie));
        sc = (float)s64;
      } else {
        const float* qr = Qs + r * QS;
        const float* kr = KVs + c * KVS;
        float dot = 0.f;
        for (int d = 0; d < D; d++) dot = fmaf(qr[d], kr[d], dot);
        const float sn = dot * scaleF;
        if (allowed && !(fabsf(sn) <= FLT_MAX)) bad = true;
        sc = sn;
      }
      if (allowed) kept |= 1u << mm;
      s[mm] = allowed ? sc : -INFINITY;
      mBlock = fmaxf(mBlock, s[mm]);
    }
#pragma unroll
    for (int o = 1; o < 8; o <<= 1) mBlock = fmaxf(mBlock, __shfl_xor_sync(0xffffffffu, mBlock, o));
    const float mNew = fmaxf(mRow, mBlock);
    const float mUse = mNew == -INFINITY ? 0.f : mNew;
    const float corr = expFrom(mRow, mUse);
    float sum = 0.f;
#pragma unroll
    for (int mm = 0; mm < 4; mm++) {
      const float pv = expFrom(s[mm], mUse);
      Ps[r * (BK + 1) + l8 + 8 * mm] = (kept >> mm) & 1u ? pv : -1.f;  // -1: not kept, never multiplies v
      sum += pv;
    }
#pragma unroll
    for (int o = 1; o < 8; o <<= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
    lRow = lRow * corr + sum;
    mRow = mNew;
#pragma unroll
    for (int m = 0; m < MAXV; m++) acc[m] *= corr;

    __syncthreads();
    loadRows<T>(KVs, KVS, v + (long long)j0 * p.vS, p.vS, kRows, Dv, tid);
    __syncthreads();
    for (int c = 0; c < kRows; c++) {
      const float pv = Ps[r * (BK + 1) + c];
      if (pv < 0.f) continue;
      const float* vr = KVs + c * KVS + l8;
#pragma unroll
      for (int m = 0; m < MAXV; m++)
        if (l8 + 8 * m < Dv) {
          const float x = vr[8 * m];
          if (!isfinite(x)) bad = true;
          acc[m] = fmaf(pv, x, acc[m]);
        }
    }
  }

  unsigned rowBad = bad ? 1u : 0u;
#pragma unroll
  for (int o = 1; o < 8; o <<= 1) rowBad |= __shfl_xor_sync(0xffffffffu, rowBad, o);
  if (!rowOk) return;
  if (rowBad) {
    float* outRow = p.out + hi.b * p.oB + hi.h * p.oH + (long long)i * p.oS;
    for (int m = l8; m < Dv; m += 8) outRow[m] = NAN;
    if (p.lse && l8 == 0) p.lse[rowIndex] = NAN;
    return;
  }
  const float inv = lRow > 0.f ? 1.f / lRow : 0.f;
  float* out = p.out + hi.b * p.oB + hi.h * p.oH + (long long)i * p.oS;
#pragma unroll
  for (int m = 0; m < MAXV; m++)
    if (l8 + 8 * m < Dv) out[l8 + 8 * m] = acc[m] * inv;
  if (p.lse && l8 == 0) p.lse[rowIndex] = lRow > 0.f ? mRow + log2f(lRow) * kLn2 : -INFINITY;
}

size_t simtSmem(int D, int Dv) { return sizeof(float) * ((size_t)BQ * oddStride(D) + (size_t)BK * oddStride(D > Dv ? D : Dv) + (size_t)BQ * (BK + 1)); }

template <typename T>
cudaError_t launchT(const AttnParams& p, int bhCount, cudaStream_t stream) {
  const size_t smem = simtSmem(p.headDim, p.headDimV);
  cudaError_t e = raiseSmemLimit(reinterpret_cast<const void*>(attnSimt<T>));
  if (e != cudaSuccess) return e;
  dim3 grid(p.numQBlocks, bhCount);
  attnSimt<T><<<grid, NT, smem, stream>>>(p);
  return cudaGetLastError();
}

}  // namespace

size_t simtSmemBytes(int D, int Dv) { return simtSmem(D, Dv); }

cudaError_t launchSimt(const AttnParams& p, int precision, int bhCount, cudaStream_t stream) {
  switch (precision) {
    case kFloat32:
      return launchT<float>(p, bhCount, stream);
    case kBFloat16:
      return launchT<__nv_bfloat16>(p, bhCount, stream);
    case kFloat16:
      return launchT<__half>(p, bhCount, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

cudaError_t simtImageCheck(int precision) {
  cudaFuncAttributes a;
  switch (precision) {
    case kBFloat16:
      return cudaFuncGetAttributes(&a, attnSimt<__nv_bfloat16>);
    case kFloat16:
      return cudaFuncGetAttributes(&a, attnSimt<__half>);
    default:
      return cudaFuncGetAttributes(&a, attnSimt<float>);
  }
}

}  // namespace sparse
