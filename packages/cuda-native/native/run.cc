// Executes one request on the GPU: pooled allocations on a borrowed stream, uploads (converting float32 to the
// storage type on this worker thread), the content passes, the fused kernel, downloads.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <string>
#include <vector>

#include "convert.h"
#include "device.h"
#include "errors.h"
#include "kernels.h"
#include "request.h"

namespace sparse {
namespace {

constexpr int kMaxGridY = 65535;

// Stream-ordered allocations from the device's memory pool, released on the same stream.
class Arena {
 public:
  explicit Arena(cudaStream_t s) : stream_(s) {}
  ~Arena() {
    for (void* p : ptrs_) cudaFreeAsync(p, stream_);
    cudaStreamSynchronize(stream_);
  }
  template <typename T>
  T* alloc(size_t count, const char* what) {
    if (count == 0) return nullptr;
    void* p = nullptr;
    cudaError_t e = cudaMallocAsync(&p, count * sizeof(T), stream_);
    if (e != cudaSuccess) {
      cudaGetLastError();
      if (e == cudaErrorMemoryAllocation)
        throw NativeError("RESOURCE_LIMIT", what,
                          std::string("cuda-native: out of device memory allocating ") + what + " (" + std::to_string((count * sizeof(T)) >> 20) +
                              " MiB); split the call by batch or heads");
      failCuda(e, std::string("allocating ") + what);
    }
    ptrs_.push_back(p);
    return static_cast<T*>(p);
  }

 private:
  cudaStream_t stream_;
  std::vector<void*> ptrs_;
};

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) failCuda(e, what);
}

template <typename T>
T* upload(Arena& arena, cudaStream_t s, const T* src, size_t count, const char* what) {
  T* d = arena.alloc<T>(count, what);
  if (count) check(cudaMemcpyAsync(d, src, count * sizeof(T), cudaMemcpyHostToDevice, s), what);
  return d;
}

// A float32 host tensor in the request's storage type on the device. `staging` holds the converted values and
// must stay untouched until the stream is synchronised: a copy from pageable memory may still be pending.
const void* uploadTensor(Arena& arena, cudaStream_t s, const float* src, size_t n, int precision, std::vector<uint16_t>& staging, const char* what) {
  if (precision == kFloat32) return upload<float>(arena, s, src, n, what);
  staging.resize(n);
  convertToStorage(src, staging.data(), n, precision);
  return upload<uint16_t>(arena, s, staging.data(), n, what);
}

void strides(bool bshd, int heads, int seq, int dim, long long& sB, long long& sH, long long& sS) {
  if (bshd) {
    sB = (long long)seq * heads * dim;
    sH = dim;
    sS = (long long)heads * dim;
  } else {
    sB = (long long)heads * seq * dim;
    sH = (long long)seq * dim;
    sS = dim;
  }
}

void runPasses(const Request& r, const DeviceInfo& dev, AttnParams p, cudaStream_t s, double* thr, int* tie, int* lq, int* lk) {
  const int bhTotal = r.batch * r.headsQ;
  for (int off = 0; off < bhTotal; off += kMaxGridY) {
    p.bhOffset = off;
    const int count = std::min(kMaxGridY, bhTotal - off);
    if (r.hasCluster) check(launchClusterLabels(p, r.precision, count, lq, lk, s), "cluster label kernel launch");
    if (r.hasTopk) check(launchTopkSelect(p, r.precision, count, thr, tie, r.maxTopkSlots, dev.smemOptin, s), "top-k selection kernel launch");
    check(launchAttention(p, r.precision, r.kernel.kind, count, s), "attention kernel launch");
  }
}

}  // namespace

void runAttention(const Request& r, RunResult& result) {
  const DeviceInfo& dev = useDevice(r.device);
  const size_t smem = attentionSmemBytes(r.precision, r.kernel.kind, r.headDim, r.headDimV);
  if (smem > dev.smemOptin)
    throw NativeError("RESOURCE_LIMIT", "headDim",
                      "cuda-native: the kernel needs " + std::to_string(smem) + " bytes of shared memory per block, the GPU allows " +
                          std::to_string(dev.smemOptin));
  try {
    StreamLease lease(r.device);
    cudaStream_t s = lease.get();
    // One staging buffer per operand, declared before the arena so that they outlive its final synchronisation.
    std::vector<uint16_t> stagingQ, stagingK, stagingV;
    Arena arena(s);

    AttnParams p{};
    p.q = r.qDev ? r.qDev : uploadTensor(arena, s, r.q, r.qElems(), r.precision, stagingQ, "q");
    p.k = r.kDev ? r.kDev : uploadTensor(arena, s, r.k, r.kElems(), r.precision, stagingK, "k");
    p.v = r.vDev ? r.vDev : uploadTensor(arena, s, r.v, r.vElems(), r.precision, stagingV, "v");
    p.out = r.outDev ? r.outDev : arena.alloc<float>(r.oElems(), "out");
    p.lse = r.lseDev ? r.lseDev : r.lse ? arena.alloc<float>(r.lseElems(), "lse") : nullptr;
    strides(r.bshd, r.headsQ, r.seqQ, r.headDim, p.qB, p.qH, p.qS);
    strides(r.bshd, r.headsKv, r.seqK, r.headDim, p.kB, p.kH, p.kS);
    strides(r.bshd, r.headsKv, r.seqK, r.headDimV, p.vB, p.vH, p.vS);
    strides(r.bshd, r.headsQ, r.seqQ, r.headDimV, p.oB, p.oH, p.oS);
    p.batch = r.batch;
    p.headsQ = r.headsQ;
    p.headsKv = r.headsKv;
    p.group = r.headsQ / r.headsKv;
    p.seqQ = r.seqQ;
    p.seqK = r.seqK;
    p.headDim = r.headDim;
    p.headDimV = r.headDimV;
    p.scale = r.scale;
    p.rowPtr = upload<int32_t>(arena, s, r.rowPtr, r.rowPtrLen, "mask.rowPtr");
    p.colIdx = upload<int32_t>(arena, s, r.colIdx, r.colLen, "mask.colIdx");
    p.partialIdx = upload<int32_t>(arena, s, r.partialIdx, r.colLen, "mask.partialIdx");
    p.bits = upload<uint32_t>(arena, s, r.bits, r.bitsLen, "mask.bits");
    p.heads = upload<int32_t>(arena, s, r.heads, (size_t)r.headsQ * HEAD_WORDS, "heads");
    p.centroids = r.centroidsLen ? upload<double>(arena, s, r.centroids, r.centroidsLen, "centroids") : nullptr;
    p.numQBlocks = r.numQBlocks;
    p.numKBlocks = r.numKBlocks;
    p.wordsPerRow = r.wordsPerRow;
    p.blockQ = r.kernel.blockQ;
    p.blockK = r.kernel.blockK;
    const size_t rows = (size_t)r.batch * r.headsQ * r.seqQ;
    double* thr = r.hasTopk ? arena.alloc<double>(rows, "topk threshold") : nullptr;
    int* tie = r.hasTopk ? arena.alloc<int>(rows, "topk tie cut") : nullptr;
    int* lq = r.hasCluster ? arena.alloc<int>(rows, "cluster labels (q)") : nullptr;
    int* lk = r.hasCluster ? arena.alloc<int>((size_t)r.batch * r.headsQ * r.seqK, "cluster labels (k)") : nullptr;
    p.topkThreshold = thr;
    p.topkTieCut = tie;
    p.labelsQ = lq;
    p.labelsK = lk;

    if (r.iterations > 0) {
      cudaEvent_t a, b;
      check(cudaEventCreate(&a), "cudaEventCreate");
      check(cudaEventCreate(&b), "cudaEventCreate");
      for (int it = 0; it < r.warmup + r.iterations; it++) {
        check(cudaEventRecord(a, s), "cudaEventRecord");
        runPasses(r, dev, p, s, thr, tie, lq, lk);
        check(cudaEventRecord(b, s), "cudaEventRecord");
        check(cudaEventSynchronize(b), "kernel execution");
        float ms = 0.f;
        check(cudaEventElapsedTime(&ms, a, b), "cudaEventElapsedTime");
        if (it >= r.warmup) result.iterationMs.push_back(ms);
      }
      cudaEventDestroy(a);
      cudaEventDestroy(b);
    } else {
      runPasses(r, dev, p, s, thr, tie, lq, lk);
    }
    if (!r.outDev) check(cudaMemcpyAsync(r.out, p.out, r.oElems() * sizeof(float), cudaMemcpyDeviceToHost, s), "downloading out");
    if (r.lse && !r.lseDev) check(cudaMemcpyAsync(r.lse, p.lse, r.lseElems() * sizeof(float), cudaMemcpyDeviceToHost, s), "downloading lse");
    check(cudaStreamSynchronize(s), "kernel execution");
  } catch (const NativeError& e) {
    if (e.code == "DEVICE_LOST") markDeviceLost(r.device, e.what());
    throw;
  }
}

void writeTensor(const TensorHold& t, const float* src, size_t offset, size_t count) {
  useDevice(t->device);
  StreamLease lease(t->device);
  cudaStream_t s = lease.get();
  char* dst = static_cast<char*>(t->ptr) + offset * dtypeBytes(t->dtype);
  std::vector<uint16_t> staging;
  if (t->dtype == kFloat32) {
    check(cudaMemcpyAsync(dst, src, count * sizeof(float), cudaMemcpyHostToDevice, s), "uploading to a resident tensor");
  } else {
    staging.resize(count);
    convertToStorage(src, staging.data(), count, t->dtype);
    check(cudaMemcpyAsync(dst, staging.data(), count * sizeof(uint16_t), cudaMemcpyHostToDevice, s), "uploading to a resident tensor");
  }
  check(cudaStreamSynchronize(s), "uploading to a resident tensor");
}

void readTensor(const TensorHold& t, float* dst, size_t offset, size_t count) {
  useDevice(t->device);
  StreamLease lease(t->device);
  cudaStream_t s = lease.get();
  const char* src = static_cast<const char*>(t->ptr) + offset * dtypeBytes(t->dtype);
  if (t->dtype == kFloat32) {
    check(cudaMemcpyAsync(dst, src, count * sizeof(float), cudaMemcpyDeviceToHost, s), "downloading a resident tensor");
    check(cudaStreamSynchronize(s), "downloading a resident tensor");
    return;
  }
  std::vector<uint16_t> staging(count);
  check(cudaMemcpyAsync(staging.data(), src, count * sizeof(uint16_t), cudaMemcpyDeviceToHost, s), "downloading a resident tensor");
  check(cudaStreamSynchronize(s), "downloading a resident tensor");
  convertFromStorage(staging.data(), dst, count, t->dtype);
}

void castTensor(const TensorHold& src, const TensorHold& dst) {
  useDevice(src->device);
  StreamLease lease(src->device);
  cudaStream_t s = lease.get();
  check(launchCast(src->ptr, src->dtype, dst->ptr, dst->dtype, src->elements, s), "cast kernel launch");
  check(cudaStreamSynchronize(s), "cast kernel");
}

}  // namespace sparse
