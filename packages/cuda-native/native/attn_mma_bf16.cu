// bf16 instantiations of the tensor-core kernel (one file per storage type: they compile in parallel).
#include "attn_mma.cuh"

namespace sparse {
cudaError_t launchMmaBf16(const AttnParams& p, int kind, int bhCount, cudaStream_t stream) {
  return mma::launchKind<__nv_bfloat16>(p, kind, bhCount, stream);
}

cudaError_t mmaImageCheckBf16() {
  cudaFuncAttributes a;
  return cudaFuncGetAttributes(&a, mma::attnMma<__nv_bfloat16, 128>);
}
}  // namespace sparse
