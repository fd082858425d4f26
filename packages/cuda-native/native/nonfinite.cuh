// The non-finite rule in the tensor-core kernel: V tiles are scrubbed in shared memory before P·V, so a NaN or
// Inf of a key that a row masks never meets that row's zero weight inside the mma (0 · NaN is NaN).
#pragma once
#include "common.cuh"
#include "tiles.h"

namespace sparse {
namespace mma {

// Exponent bits of a 16-bit storage type, twice: a half whose exponent is all ones is Inf or NaN.
template <typename T>
struct ExpBits2;
template <>
struct ExpBits2<__nv_bfloat16> {
  static constexpr uint32_t value = 0x7f807f80u;
};
template <>
struct ExpBits2<__half> {
  static constexpr uint32_t value = 0x7c007c00u;
};

// Replaces the non-finite halves of w by +0; bad is set when there was one.
template <typename T>
__device__ __forceinline__ uint32_t finiteOrZero2(uint32_t w, bool& bad) {
  constexpr uint32_t E = ExpBits2<T>::value;
  const uint32_t nonFinite = __vcmpeq2(w & E, E);  // 0xffff in each non-finite half
  bad = bad || nonFinite != 0;
  return w & ~nonFinite;
}

// Scrubs rows [0, kRows) of a V tile (row stride SST elements, 16-byte aligned rows, Dv columns): non-finite values
// become 0 and bit r of flags is set for each key row r that had one. flags must be zero on entry.
template <typename T, int SST>
__device__ __forceinline__ void scrubTile(uint16_t* Vs, uint32_t* flags, int kRows, int Dv, int tid) {
  const int cpr = (Dv + 7) >> 3;
  const int total = kRows * cpr;
  for (int e = tid; e < total; e += NT) {
    const int r = e / cpr;
    uint4* chunk = reinterpret_cast<uint4*>(Vs + r * SST + ((e - r * cpr) << 3));
    const uint4 x = *chunk;
    bool bad = false;
    const uint4 y = make_uint4(finiteOrZero2<T>(x.x, bad), finiteOrZero2<T>(x.y, bad), finiteOrZero2<T>(x.z, bad),
                               finiteOrZero2<T>(x.w, bad));
    if (bad) {
      *chunk = y;
      atomicOr(flags + (r >> 5), 1u << (r & 31));
    }
  }
}

}  // namespace mma
}  // namespace sparse
