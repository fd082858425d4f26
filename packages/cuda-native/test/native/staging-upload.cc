// runAttention (native/run.cc) over a fake CUDA runtime in which host-to-device copies from pageable memory are
// deferred until the stream is synchronised (the runtime may stage them later). The fake kernel snapshots the
// q, k and v it would read; each must equal its own host tensor rounded to the storage type, so no staging
// buffer may be reused or freed while a copy from it is pending.
#include <cuda_runtime_api.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#include "../../native/convert.h"
#include "../../native/device.h"
#include "../../native/errors.h"
#include "../../native/kernels.h"
#include "../../native/request.h"

static std::vector<std::function<void()>> pending;  // the stream's queued work
static std::vector<uint16_t> seenQ, seenK, seenV;   // what the kernel read

static void flush() {
  for (auto& op : pending) op();
  pending.clear();
}

extern "C" {
cudaError_t cudaMallocAsync(void** p, size_t bytes, cudaStream_t) {
  *p = std::malloc(bytes ? bytes : 1);
  return cudaSuccess;
}
cudaError_t cudaFreeAsync(void* p, cudaStream_t) {
  pending.push_back([p] { std::free(p); });
  return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind, cudaStream_t) {
  pending.push_back([=] { std::memcpy(dst, src, bytes); });
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) {
  flush();
  return cudaSuccess;
}
cudaError_t cudaGetLastError() { return cudaSuccess; }
cudaError_t cudaEventCreate(cudaEvent_t*) { return cudaErrorNotSupported; }
cudaError_t cudaEventRecord(cudaEvent_t, cudaStream_t) { return cudaErrorNotSupported; }
cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaErrorNotSupported; }
cudaError_t cudaEventElapsedTime(float*, cudaEvent_t, cudaEvent_t) { return cudaErrorNotSupported; }
cudaError_t cudaEventDestroy(cudaEvent_t) { return cudaSuccess; }
}

namespace sparse {
static DeviceInfo info{0, 9, 0, 1 << 20, 1ull << 30};
const DeviceInfo& useDevice(int) { return info; }
StreamLease::StreamLease(int device) : device_(device) {}
StreamLease::~StreamLease() {}
void markDeviceLost(int, const std::string&) {}
void failCuda(cudaError_t e, const std::string& what) { throw NativeError("INTERNAL", what, "fake cuda error " + std::to_string((int)e)); }
size_t attentionSmemBytes(int, int, int, int) { return 0; }
size_t dtypeBytes(int dtype) { return dtype == kFloat32 ? 4 : 2; }
cudaError_t launchClusterLabels(AttnParams, int, int, int*, int*, cudaStream_t) { return cudaSuccess; }
cudaError_t launchTopkSelect(AttnParams, int, int, double*, int*, int, size_t, cudaStream_t) { return cudaSuccess; }
cudaError_t launchCast(const void*, int, void*, int, size_t, cudaStream_t) { return cudaSuccess; }
cudaError_t launchAttention(AttnParams p, int, int, int, cudaStream_t) {
  const size_t nq = (size_t)p.batch * p.headsQ * p.seqQ * p.headDim, nk = (size_t)p.batch * p.headsKv * p.seqK * p.headDim,
               nv = (size_t)p.batch * p.headsKv * p.seqK * p.headDimV;
  pending.push_back([=] {
    const uint16_t* q = static_cast<const uint16_t*>(p.q);
    const uint16_t* k = static_cast<const uint16_t*>(p.k);
    const uint16_t* v = static_cast<const uint16_t*>(p.v);
    seenQ.assign(q, q + nq);
    seenK.assign(k, k + nk);
    seenV.assign(v, v + nv);
  });
  return cudaSuccess;
}
}  // namespace sparse

using namespace sparse;

int main() {
  // k is larger than q: reusing one buffer would also reallocate it under q's pending copy.
  const int S = 40, Sk = 300, D = 16;
  std::vector<float> q(S * D), k(Sk * D), v(Sk * D), out(S * D), lse(S);
  for (size_t n = 0; n < q.size(); n++) q[n] = 1.0f + n;
  for (size_t n = 0; n < k.size(); n++) k[n] = -2.0f - n;
  for (size_t n = 0; n < v.size(); n++) v[n] = 0.5f * n;
  std::vector<int32_t> rowPtr{0, 0}, heads(HEAD_WORDS, 0);
  Request r;
  r.precision = kBFloat16;
  r.kernel = {kMma64, 64, 64, 128};
  r.batch = r.headsQ = r.headsKv = 1;
  r.seqQ = S;
  r.seqK = Sk;
  r.headDim = r.headDimV = D;
  r.q = q.data();
  r.k = k.data();
  r.v = v.data();
  r.out = out.data();
  r.lse = lse.data();
  r.rowPtr = rowPtr.data();
  r.rowPtrLen = rowPtr.size();
  r.heads = heads.data();
  r.numQBlocks = 1;
  r.numKBlocks = 5;
  r.wordsPerRow = 2;
  RunResult result;
  runAttention(r, result);
  auto expect = [](const std::vector<float>& host) {
    std::vector<uint16_t> s(host.size());
    convertToStorage(host.data(), s.data(), host.size(), kBFloat16);
    return s;
  };
  const bool okQ = seenQ == expect(q), okK = seenK == expect(k), okV = seenV == expect(v);
  std::printf("q=%s k=%s v=%s\n", okQ ? "ok" : "WRONG", okK ? "ok" : "WRONG", okV ? "ok" : "WRONG");
  return okQ && okK && okV ? 0 : 1;
}
