// Tile shapes of the tensor-core kernel, shared by the host dispatch (g++) and the kernels (nvcc).
#pragma once
#include <cstddef>
#include <cstdint>

namespace sparse {
namespace mma {

constexpr int BQ = 64;   // query rows per CTA: 4 warps x 16
constexpr int NT = 128;  // threads per CTA

// DT: head-dim tier (64, 128, 256); any D, Dv <= DT runs, zero-padded in shared memory.
template <int DT>
struct Tier {
  static constexpr int BK = DT == 256 ? 32 : 64;
  static constexpr int SST = DT + 8;  // shared row stride (elements): rows shift by 4 banks, ldmatrix conflict-free
  static constexpr bool QREG = DT <= 128;
  static constexpr int MIN_BLOCKS = DT == 256 ? 1 : 2;
  // Q, K, V tiles, then one 16-byte slot for the per-key flags of the V tile (non-finite values, BK bits).
  static constexpr size_t SMEM = sizeof(uint16_t) * (size_t)(BQ + 2 * BK) * SST + 16;
};

}  // namespace mma
}  // namespace sparse
