// Host-side entry points of the CUDA kernels (defined in the .cu files).
#pragma once
#include <cuda_runtime_api.h>

#include "params.h"

namespace sparse {

// Which fused kernel (and so which BlockMask tile sizes) a request runs with.
KernelConfig chooseKernel(int precision, int headDim, int headDimV, bool hasTopk);
bool validKernel(int precision, int kind);

// Dynamic shared memory each kernel needs for these head dims (bytes).
size_t attentionSmemBytes(int precision, int kind, int headDim, int headDimV);

// Launches the fused kernel over bhCount flattened (b, h) starting at p.bhOffset.
cudaError_t launchAttention(AttnParams p, int precision, int kind, int bhCount, cudaStream_t stream);
cudaError_t launchSimt(const AttnParams& p, int precision, int bhCount, cudaStream_t stream);
cudaError_t launchMmaBf16(const AttnParams& p, int kind, int bhCount, cudaStream_t stream);
cudaError_t launchMmaF16(const AttnParams& p, int kind, int bhCount, cudaStream_t stream);

// Content passes: per-row top-k threshold and tie cut; per-token cluster labels.
cudaError_t launchTopkSelect(AttnParams p, int precision, int bhCount, double* threshold, int* tieCut, int maxSlots, size_t smemOptin,
                             cudaStream_t stream);
cudaError_t launchClusterLabels(AttnParams p, int precision, int bhCount, int* labelsQ, int* labelsK, cudaStream_t stream);

// Element-wise conversion between storage types (resident tensors), on the stream.
cudaError_t launchCast(const void* src, int srcType, void* dst, int dstType, size_t n, cudaStream_t stream);

// Kernel attributes for probe() (to check the binary has code for the device).
cudaError_t kernelImageCheck();
size_t simtSmemBytes(int headDim, int headDimV);
cudaError_t simtImageCheck(int precision);
cudaError_t mmaImageCheckBf16();
cudaError_t mmaImageCheckF16();

}  // namespace sparse
