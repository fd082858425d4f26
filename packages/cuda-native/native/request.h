// One attention call as the native layer sees it, after every size and offset has been re-checked against the
// byte lengths of the buffers that JS passed (parseRequest in args.cc).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "params.h"
#include "tensors.h"

namespace sparse {

struct Request {
  int precision = kFloat32;
  KernelConfig kernel{};
  int batch = 0, headsQ = 0, headsKv = 0, seqQ = 0, seqK = 0, headDim = 0, headDimV = 0;
  bool bshd = false;
  double scale = 1.0;
  int device = 0;
  // Host buffers (JS-owned, kept alive by the worker's references).
  const float* q = nullptr;
  const float* k = nullptr;
  const float* v = nullptr;
  float* out = nullptr;
  float* lse = nullptr;
  // Resident operands (device tensors): used in place of the host buffer of the same name when set. The holds
  // keep them allocated until the call is done; out and lse are then written on the device, not downloaded.
  const void* qDev = nullptr;
  const void* kDev = nullptr;
  const void* vDev = nullptr;
  float* outDev = nullptr;
  float* lseDev = nullptr;
  std::vector<TensorHold> holds;
  bool wantLse = false;
  // Block masks (concatenated) and per-head descriptors.
  const int32_t* rowPtr = nullptr;
  size_t rowPtrLen = 0;
  const int32_t* colIdx = nullptr;
  const int32_t* partialIdx = nullptr;
  size_t colLen = 0;
  const uint32_t* bits = nullptr;
  size_t bitsLen = 0;
  const int32_t* heads = nullptr;
  const double* centroids = nullptr;
  size_t centroidsLen = 0;
  int numQBlocks = 0, numKBlocks = 0, wordsPerRow = 0;
  bool hasTopk = false, hasCluster = false;
  int maxTopkSlots = 0;  // the largest candidate-slot count of a top-k row
  // Profiling: run the passes warmup + iterations times and time each iteration on the stream.
  int warmup = 0, iterations = 0;

  size_t qElems() const { return (size_t)batch * headsQ * seqQ * headDim; }
  size_t kElems() const { return (size_t)batch * headsKv * seqK * headDim; }
  size_t vElems() const { return (size_t)batch * headsKv * seqK * headDimV; }
  size_t oElems() const { return (size_t)batch * headsQ * seqQ * headDimV; }
  size_t lseElems() const { return (size_t)batch * headsQ * seqQ; }
};

struct RunResult {
  std::vector<double> iterationMs;
};

// Runs the request on its device (blocking; called from a worker thread). Throws NativeError.
void runAttention(const Request& r, RunResult& result);

// Resident tensor transfers and conversion (blocking; worker threads). Ranges are checked by the caller.
void writeTensor(const TensorHold& t, const float* src, size_t offset, size_t count);
void readTensor(const TensorHold& t, float* dst, size_t offset, size_t count);
void castTensor(const TensorHold& src, const TensorHold& dst);

}  // namespace sparse
