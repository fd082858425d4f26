// Element-wise conversion between resident tensors of the storage types (float32 <-> bf16 / f16, or a copy),
// round to nearest even like the host conversion (convert.cc), so that chained calls can feed a float32
// output back in as bf16/f16 q, k or v without a host round trip.
#include "common.cuh"
#include "kernels.h"

namespace sparse {
namespace {

template <typename S, typename D>
__global__ void castKernel(const S* __restrict__ src, D* __restrict__ dst, size_t n) {
  const size_t stride = (size_t)gridDim.x * blockDim.x;
  for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) dst[i] = fromFloat<D>(toFloat<S>(src[i]));
}

template <typename S, typename D>
cudaError_t launch(const void* src, void* dst, size_t n, cudaStream_t stream) {
  constexpr int kThreads = 256;
  const size_t blocks = (n + kThreads - 1) / kThreads;
  castKernel<S, D><<<(unsigned)(blocks < 8192 ? blocks : 8192), kThreads, 0, stream>>>(static_cast<const S*>(src), static_cast<D*>(dst), n);
  return cudaGetLastError();
}

template <typename S>
cudaError_t launchFrom(const void* src, void* dst, int dstType, size_t n, cudaStream_t stream) {
  switch (dstType) {
    case kFloat32:
      return launch<S, float>(src, dst, n, stream);
    case kBFloat16:
      return launch<S, __nv_bfloat16>(src, dst, n, stream);
    case kFloat16:
      return launch<S, __half>(src, dst, n, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace

cudaError_t launchCast(const void* src, int srcType, void* dst, int dstType, size_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  switch (srcType) {
    case kFloat32:
      return launchFrom<float>(src, dst, dstType, n, stream);
    case kBFloat16:
      return launchFrom<__nv_bfloat16>(src, dst, dstType, n, stream);
    case kFloat16:
      return launchFrom<__half>(src, dst, dstType, n, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace sparse
