// Kernel choice (tile sizes the JS side compiles masks for) and launch dispatch.
#include "tiles.h"
#include "kernels.h"

namespace sparse {

KernelConfig chooseKernel(int precision, int headDim, int headDimV, bool hasTopk) {
  if (precision == kFloat32 || hasTopk) return {kSimt, 32, 32, 256};
  const int tier = headDim > headDimV ? headDim : headDimV;
  if (tier <= 64) return {kMma64, mma::BQ, mma::Tier<64>::BK, mma::NT};
  if (tier <= 128) return {kMma128, mma::BQ, mma::Tier<128>::BK, mma::NT};
  return {kMma256, mma::BQ, mma::Tier<256>::BK, mma::NT};
}

bool validKernel(int precision, int kind) {
  if (kind == kSimt) return precision >= kFloat32 && precision <= kFloat16;
  return (precision == kBFloat16 || precision == kFloat16) && kind >= kMma64 && kind <= kMma256;
}

size_t attentionSmemBytes(int precision, int kind, int headDim, int headDimV) {
  (void)precision;
  switch (kind) {
    case kSimt:
      return simtSmemBytes(headDim, headDimV);
    case kMma64:
      return mma::Tier<64>::SMEM;
    case kMma128:
      return mma::Tier<128>::SMEM;
    case kMma256:
      return mma::Tier<256>::SMEM;
    default:
      return 0;
  }
}

cudaError_t launchAttention(AttnParams p, int precision, int kind, int bhCount, cudaStream_t stream) {
  if (kind == kSimt) return launchSimt(p, precision, bhCount, stream);
  if (precision == kBFloat16) return launchMmaBf16(p, kind, bhCount, stream);
  if (precision == kFloat16) return launchMmaF16(p, kind, bhCount, stream);
  return cudaErrorInvalidValue;
}

cudaError_t kernelImageCheck() {
  cudaError_t e = simtImageCheck(kFloat32);
  if (e == cudaSuccess) e = mmaImageCheckBf16();
  if (e == cudaSuccess) e = mmaImageCheckF16();
  return e;
}

}  // namespace sparse
