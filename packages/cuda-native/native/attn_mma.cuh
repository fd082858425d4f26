// The tensor-core fused kernel (FlashAttention-2 style): bf16/f16 storage, mma.sync m16n8k16 with float32
// accumulation, online softmax in float32 registers. 4 warps x 16 query rows = 64 rows per CTA; key tiles of
// BK keys stream through shared memory with cp.async (V(n) loads while S = QK^T(n) computes, K(n+1) while
// O += PV(n)). DT is the head-dim tier (64, 128, 256): any D, Dv <= DT runs, zero-padded in shared memory.
// Softmax in natural units; the non-finite rule: masked scores are selected out (-inf), V tiles are scrubbed
// (nonfinite.cuh), and a row with a non-finite attended score or a flagged kept key is written as NaN.
#pragma once
#include <cfloat>

#include "common.cuh"
#include "kernels.h"
#include "nonfinite.cuh"
#include "smem_limit.h"
#include "tiles.h"

namespace sparse {
namespace mma {

__device__ __forceinline__ uint32_t smemAddr(const void* p) { return (uint32_t)__cvta_generic_to_shared(p); }

__device__ __forceinline__ void cpAsync16(void* dst, const void* src, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smemAddr(dst)), "l"(src), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void cpAsyncCommit() { asm volatile("cp.async.commit_group;\n" ::); }
__device__ __forceinline__ void cpAsyncWaitAll() { asm volatile("cp.async.wait_group 0;\n" ::: "memory"); }

__device__ __forceinline__ void ldsm4(uint32_t (&r)[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smemAddr(p)));
}
__device__ __forceinline__ void ldsm4t(uint32_t (&r)[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smemAddr(p)));
}

template <typename T>
__device__ __forceinline__ void mma16816(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1);
template <>
__device__ __forceinline__ void mma16816<__nv_bfloat16>(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
template <>
__device__ __forceinline__ void mma16816<__half>(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

template <typename T>
__device__ __forceinline__ uint32_t pack2(float lo, float hi);
template <>
__device__ __forceinline__ uint32_t pack2<__nv_bfloat16>(float lo, float hi) {
  __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<uint32_t*>(&v);
}
template <>
__device__ __forceinline__ uint32_t pack2<__half>(float lo, float hi) {
  __half2 v = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<uint32_t*>(&v);
}

// Copies `rows` tile rows (the rest zero-filled) of `cols` elements from global rows of stride rowStride.
// Vector path: 16-byte cp.async (cols % 8 == 0 keeps every row start 16-byte aligned); else 2-byte loads.
template <int SST>
__device__ __forceinline__ void loadTile(uint16_t* sm, const uint16_t* g, long long rowStride, int tileRows, int rows, int cols, bool vec,
                                         int tid) {
  if (vec) {
    const int cpr = cols >> 3;
    const int total = tileRows * cpr;
    for (int e = tid; e < total; e += NT) {
      const int r = e / cpr;
      const int c = (e - r * cpr) << 3;
      const bool ok = r < rows;
      cpAsync16(sm + r * SST + c, ok ? g + r * rowStride + c : g, ok);
    }
    cpAsyncCommit();
  } else {
    const int total = tileRows * cols;
    for (int e = tid; e < total; e += NT) {
      const int r = e / cols;
      const int c = e - r * cols;
      sm[r * SST + c] = r < rows ? g[r * rowStride + c] : (uint16_t)0;
    }
  }
}

template <typename T, int DT>
__global__ void __launch_bounds__(NT, Tier<DT>::MIN_BLOCKS) attnMma(const AttnParams p) {
  using TI = Tier<DT>;
  constexpr int BK = TI::BK;
  constexpr int SST = TI::SST;
  constexpr int NS = BK / 8;   // score n-tiles per warp row block
  constexpr int NO = DT / 8;   // output n-tiles
  constexpr int KC = DT / 16;  // k chunks of the QK^T product
  constexpr int WPR = BK / 32; // mask words per row
  extern __shared__ __align__(16) uint16_t smem16[];
  uint16_t* Qs = smem16;
  uint16_t* Ks = Qs + BQ * SST;
  uint16_t* Vs = Ks + BK * SST;
  uint32_t* vFlags = reinterpret_cast<uint32_t*>(Vs + BK * SST);  // bit c: key c of the V tile had a non-finite value

  const int tid = threadIdx.x;
  const int warp = tid >> 5;
  const int lane = tid & 31;
  const int g = lane >> 2;
  const int t4 = lane & 3;
  const int qb = blockIdx.x;
  const int bh = blockIdx.y + p.bhOffset;
  const HeadInfo hi = headInfo(p, bh);
  const int D = p.headDim;
  const int Dv = p.headDimV;
  const int i0 = qb * BQ;
  const int nKC = (D + 15) >> 4;
  const int nPV = (Dv + 15) >> 4;
  const bool vecQK = (D & 7) == 0;
  const bool vecV = (Dv & 7) == 0;
  const uint16_t* q = static_cast<const uint16_t*>(p.q) + hi.b * p.qB + hi.h * p.qH;
  const uint16_t* k = static_cast<const uint16_t*>(p.k) + hi.b * p.kB + hi.hk * p.kH;
  const uint16_t* v = static_cast<const uint16_t*>(p.v) + hi.b * p.vB + hi.hk * p.vH;

  // Zero everything once: padding columns (>= D, >= Dv) are never written again and must read as zero.
  {
    uint4* z = reinterpret_cast<uint4*>(smem16);
    const int words = (int)(TI::SMEM / sizeof(uint4));
    for (int e = tid; e < words; e += NT) z[e] = make_uint4(0, 0, 0, 0);
  }
  __syncthreads();

  const int n0 = hi.rowPtr[qb];
  const int n1 = hi.rowPtr[qb + 1];
  loadTile<SST>(Qs, q + (long long)i0 * p.qS, p.qS, BQ, min(BQ, p.seqQ - i0), D, vecQK, tid);
  if (n0 < n1) {
    const int j0 = hi.colIdx[n0] * BK;
    loadTile<SST>(Ks, k + (long long)j0 * p.kS, p.kS, BK, min(BK, p.seqK - j0), D, vecQK, tid);
  }

  const int rowA = warp * 16 + g;  // this thread's two rows in the tile: rowA and rowA + 8
  const int iA = i0 + rowA;
  const int iB = iA + 8;
  const bool cluster = hi.mode == MODE_CLUSTER;
  int labA = -1, labB = -1;
  const int* labelsK = nullptr;
  if (cluster) {
    if (iA < p.seqQ) labA = p.labelsQ[(long long)bh * p.seqQ + iA];
    if (iB < p.seqQ) labB = p.labelsQ[(long long)bh * p.seqQ + iB];
    labelsK = p.labelsK + (long long)bh * p.seqK;
  }

  float o[NO][4];
#pragma unroll
  for (int x = 0; x < NO; x++) o[x][0] = o[x][1] = o[x][2] = o[x][3] = 0.f;
  float mA = -INFINITY, mB = -INFINITY, lA = 0.f, lB = 0.f;
  bool badA = false, badB = false;  // the rule's NaN rows; the quad's threads each see part of the keys
  const float scale = (float)p.scale;
  uint32_t qf[TI::QREG ? KC : 1][4];

  for (int n = n0; n < n1; n++) {
    const int j0 = hi.colIdx[n] * BK;
    const int P = hi.partialIdx[n];
    const int kRows = min(BK, p.seqK - j0);
    cpAsyncWaitAll();
    __syncthreads();  // K(n) (and Q) visible; every warp is done with V(n-1) and its flags
    loadTile<SST>(Vs, v + (long long)j0 * p.vS, p.vS, BK, kRows, Dv, vecV, tid);
    if (tid < WPR) vFlags[tid] = 0u;

    if (TI::QREG && n == n0) {
#pragma unroll
      for (int kc = 0; kc < KC; kc++)
        if (kc < nKC) ldsm4(qf[TI::QREG ? kc : 0], Qs + (warp * 16 + (lane & 15)) * SST + kc * 16 + (lane >> 4) * 8);
    }

    float s[NS][4];
#pragma unroll
    for (int x = 0; x < NS; x++) s[x][0] = s[x][1] = s[x][2] = s[x][3] = 0.f;
#pragma unroll
    for (int kc = 0; kc < KC; kc++) {
      if (kc >= nKC) break;
      uint32_t a[4];
      if (TI::QREG) {
#pragma unroll
        for (int x = 0; x < 4; x++) a[x] = qf[TI::QREG ? kc : 0][x];
      } else {
        ldsm4(a, Qs + (warp * 16 + (lane & 15)) * SST + kc * 16 + (lane >> 4) * 8);
      }
#pragma unroll
      for (int np = 0; np < NS / 2; np++) {
        uint32_t b[4];
        ldsm4(b, Ks + (np * 16 + (lane & 7) + ((lane >> 4) << 3)) * SST + kc * 16 + ((lane >> 3) & 1) * 8);
        mma16816<T>(s[2 * np], a, b[0], b[1]);
        mma16816<T>(s[2 * np + 1], a, b[2], b[3]);
      }
    }

    // Scale, then select masked keys out (partial tiles, the ragged last tile, cluster labels). Bit 2x+e of
    // keepA/keepB: the key of s[x][e] / s[x][2+e] is attended. Attended scores must be finite.
#pragma unroll
    for (int x = 0; x < NS; x++)
#pragma unroll
      for (int e = 0; e < 4; e++) s[x][e] *= scale;
    uint32_t keepA = (1u << (2 * NS)) - 1u, keepB = keepA;
    if (P >= 0 || kRows < BK || cluster) {
      uint32_t wA[WPR], wB[WPR];
#pragma unroll
      for (int w = 0; w < WPR; w++) {
        wA[w] = P >= 0 ? hi.bits[((long long)P * BQ + rowA) * p.wordsPerRow + w] : 0xffffffffu;
        wB[w] = P >= 0 ? hi.bits[((long long)P * BQ + rowA + 8) * p.wordsPerRow + w] : 0xffffffffu;
      }
#pragma unroll
      for (int x = 0; x < NS; x++)
#pragma unroll
        for (int e = 0; e < 2; e++) {
          const int c = x * 8 + 2 * t4 + e;
          const bool inK = c < kRows;
          bool okA = inK && ((wA[x >> 2] >> (c & 31)) & 1u);
          bool okB = inK && ((wB[x >> 2] >> (c & 31)) & 1u);
          if (cluster && inK) {
            const int lk = labelsK[j0 + c];
            okA = okA && lk == labA;
            okB = okB && lk == labB;
          }
          if (!okA) keepA &= ~(1u << (2 * x + e));
          if (!okB) keepB &= ~(1u << (2 * x + e));
        }
    }
#pragma unroll
    for (int x = 0; x < NS; x++)
#pragma unroll
      for (int e = 0; e < 2; e++) {
        const bool okA = (keepA >> (2 * x + e)) & 1u, okB = (keepB >> (2 * x + e)) & 1u;
        badA = badA || (okA && !(fabsf(s[x][e]) <= FLT_MAX));
        badB = badB || (okB && !(fabsf(s[x][2 + e]) <= FLT_MAX));
        if (!okA) s[x][e] = -INFINITY;
        if (!okB) s[x][2 + e] = -INFINITY;
      }

    // Online softmax (rows A and B); the 4 threads of a quad share a row.
    float bmA = -INFINITY, bmB = -INFINITY;
#pragma unroll
    for (int x = 0; x < NS; x++) {
      bmA = fmaxf(bmA, fmaxf(s[x][0], s[x][1]));
      bmB = fmaxf(bmB, fmaxf(s[x][2], s[x][3]));
    }
#pragma unroll
    for (int off = 1; off < 4; off <<= 1) {
      bmA = fmaxf(bmA, __shfl_xor_sync(0xffffffffu, bmA, off));
      bmB = fmaxf(bmB, __shfl_xor_sync(0xffffffffu, bmB, off));
    }
    const float nmA = fmaxf(mA, bmA), nmB = fmaxf(mB, bmB);
    const float uA = nmA == -INFINITY ? 0.f : nmA, uB = nmB == -INFINITY ? 0.f : nmB;
    const float cA = expFrom(mA, uA), cB = expFrom(mB, uB);
    mA = nmA;
    mB = nmB;
    float sA = 0.f, sB = 0.f;
#pragma unroll
    for (int x = 0; x < NS; x++) {
      s[x][0] = expFrom(s[x][0], uA);
      s[x][1] = expFrom(s[x][1], uA);
      s[x][2] = expFrom(s[x][2], uB);
      s[x][3] = expFrom(s[x][3], uB);
      sA += s[x][0] + s[x][1];
      sB += s[x][2] + s[x][3];
    }
    lA = lA * cA + sA;
    lB = lB * cB + sB;
#pragma unroll
    for (int x = 0; x < NO; x++) {
      o[x][0] *= cA;
      o[x][1] *= cA;
      o[x][2] *= cB;
      o[x][3] *= cB;
    }

    cpAsyncWaitAll();
    __syncthreads();  // V(n) visible; every warp is done reading K(n)
    if (n + 1 < n1) {
      const int jn = hi.colIdx[n + 1] * BK;
      loadTile<SST>(Ks, k + (long long)jn * p.kS, p.kS, BK, min(BK, p.seqK - jn), D, vecQK, tid);
    }
    scrubTile<T, SST>(Vs, vFlags, kRows, Dv, tid);
    __syncthreads();  // V(n) scrubbed and its flags set
    uint32_t flagged[WPR];
#pragma unroll
    for (int w = 0; w < WPR; w++) flagged[w] = vFlags[w];
#pragma unroll
    for (int x = 0; x < NS; x++)
#pragma unroll
      for (int e = 0; e < 2; e++) {
        const int c = x * 8 + 2 * t4 + e;
        if ((flagged[c >> 5] >> (c & 31)) & 1u) {
          badA = badA || ((keepA >> (2 * x + e)) & 1u);
          badB = badB || ((keepB >> (2 * x + e)) & 1u);
        }
      }

    // O += P V: P re-used from the score registers as A fragments.
#pragma unroll
    for (int kc = 0; kc < BK / 16; kc++) {
      uint32_t a[4];
      a[0] = pack2<T>(s[2 * kc][0], s[2 * kc][1]);
      a[1] = pack2<T>(s[2 * kc][2], s[2 * kc][3]);
      a[2] = pack2<T>(s[2 * kc + 1][0], s[2 * kc + 1][1]);
      a[3] = pack2<T>(s[2 * kc + 1][2], s[2 * kc + 1][3]);
#pragma unroll
      for (int np = 0; np < NO / 2; np++) {
        if (np >= nPV) break;
        uint32_t b[4];
        ldsm4t(b, Vs + (kc * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * SST + np * 16 + (lane >> 4) * 8);
        mma16816<T>(o[2 * np], a, b[0], b[1]);
        mma16816<T>(o[2 * np + 1], a, b[2], b[3]);
      }
    }
  }

  cpAsyncWaitAll();  // a query block with no listed key block still has its Q copy in flight

#pragma unroll
  for (int off = 1; off < 4; off <<= 1) {
    lA += __shfl_xor_sync(0xffffffffu, lA, off);
    lB += __shfl_xor_sync(0xffffffffu, lB, off);
  }
#pragma unroll
  for (int off = 1; off < 4; off <<= 1) {
    badA = __shfl_xor_sync(0xffffffffu, (int)badA, off) || badA;
    badB = __shfl_xor_sync(0xffffffffu, (int)badB, off) || badB;
  }
  const float invA = lA > 0.f ? 1.f / lA : 0.f;
  const float invB = lB > 0.f ? 1.f / lB : 0.f;
  float* outBase = p.out + hi.b * p.oB + hi.h * p.oH;
  const bool okA = iA < p.seqQ, okB = iB < p.seqQ;
  float* outA = outBase + (long long)iA * p.oS;
  float* outB = outBase + (long long)iB * p.oS;
#pragma unroll
  for (int x = 0; x < NO; x++)
#pragma unroll
    for (int e = 0; e < 2; e++) {
      const int c = x * 8 + 2 * t4 + e;
      if (c < Dv) {
        if (okA) outA[c] = badA ? NAN : o[x][e] * invA;
        if (okB) outB[c] = badB ? NAN : o[x][2 + e] * invB;
      }
    }
  if (p.lse && t4 == 0) {
    if (okA) p.lse[(long long)bh * p.seqQ + iA] = badA ? NAN : lA > 0.f ? mA + log2f(lA) * kLn2 : -INFINITY;
    if (okB) p.lse[(long long)bh * p.seqQ + iB] = badB ? NAN : lB > 0.f ? mB + log2f(lB) * kLn2 : -INFINITY;
  }
}

template <typename T, int DT>
cudaError_t launchTier(const AttnParams& p, int bhCount, cudaStream_t stream) {
  const size_t smem = Tier<DT>::SMEM;
  cudaError_t e = raiseSmemLimit(reinterpret_cast<const void*>(attnMma<T, DT>));
  if (e != cudaSuccess) return e;
  attnMma<T, DT><<<dim3(p.numQBlocks, bhCount), NT, smem, stream>>>(p);
  return cudaGetLastError();
}

template <typename T>
cudaError_t launchKind(const AttnParams& p, int kind, int bhCount, cudaStream_t stream) {
  switch (kind) {
    case kMma64:
      return launchTier<T, 64>(p, bhCount, stream);
    case kMma128:
      return launchTier<T, 128>(p, bhCount, stream);
    case kMma256:
      return launchTier<T, 256>(p, bhCount, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace mma
}  // namespace sparse
