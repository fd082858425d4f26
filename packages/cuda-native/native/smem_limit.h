// The dynamic shared memory limit of a kernel is an attribute of the function in the context, not of a launch:
// setting it per launch to a request-dependent size races with calls in flight on other threads (one call
// lowers it under another's launch, which then fails). Each kernel's limit is raised once per device to the
// most the device allows (its opt-in maximum less the kernel's static shared memory), before its first launch.
#pragma once
#include <cuda_runtime_api.h>

namespace sparse {

// The CUDA calls the guard makes (replaced by fakes in the host-side test).
struct SmemApi {
  cudaError_t (*getDevice)(int* device);
  cudaError_t (*optinBytes)(int device, int* bytes);                  // cudaDevAttrMaxSharedMemoryPerBlockOptin
  cudaError_t (*staticBytes)(const void* kernel, int* bytes);         // cudaFuncAttributes::sharedSizeBytes
  cudaError_t (*setMaxDynamic)(const void* kernel, int bytes);        // cudaFuncAttributeMaxDynamicSharedMemorySize
};

const SmemApi& cudaSmemApi();

// Raises `kernel`'s dynamic shared memory limit on the current device once (thread-safe: other callers wait
// until it is set); a failure is returned and retried by the next call.
cudaError_t raiseSmemLimit(const void* kernel, const SmemApi& api = cudaSmemApi());

}  // namespace sparse
