// f16 instantiations of the tensor-core kernel (one file per storage type: they compile in parallel).
#include "attn_mma.cuh"

namespace sparse {
cudaError_t launchMmaF16(const AttnParams& p, int kind, int bhCount, cudaStream_t stream) { return mma::launchKind<__half>(p, kind, bhCount, stream); }

cudaError_t mmaImageCheckF16() {
  cudaFuncAttributes a;
  return cudaFuncGetAttributes(&a, mma::attnMma<__half, 128>);
}
}  // namespace sparse
