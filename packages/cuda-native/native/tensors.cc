#include "tensors.h"

#include <cuda_runtime_api.h>

#include <atomic>
#include <mutex>
#include <unordered_map>

#include "device.h"
#include "errors.h"
#include "params.h"

namespace sparse {
namespace {

std::mutex registryMu;
std::unordered_map<int64_t, std::shared_ptr<DeviceTensor>>& registry() {
  static auto* r = new std::unordered_map<int64_t, std::shared_ptr<DeviceTensor>>();  // never destroyed at exit
  return *r;
}
std::atomic<int64_t> nextId{1};

// Frees the allocation when the last holder lets go, back into the device's stream-ordered pool (the one the
// per-call buffers use, so memory freed by either serves the other). Errors are ignored: the memory of a lost
// context is reclaimed with it, and a destructor must not throw.
void freeTensor(DeviceTensor* t) {
  if (t->ptr) {
    try {
      cudaSetDevice(t->device);
      StreamLease lease(t->device);
      if (cudaFreeAsync(t->ptr, lease.get()) == cudaSuccess) cudaStreamSynchronize(lease.get());
    } catch (...) {
    }
    cudaGetLastError();
  }
  delete t;
}

}  // namespace

size_t dtypeBytes(int dtype) { return dtype == kFloat32 ? 4 : 2; }
const char* dtypeName(int dtype) { return dtype == kFloat32 ? "float32" : dtype == kBFloat16 ? "bfloat16" : "float16"; }
size_t DeviceTensor::bytes() const { return elements * dtypeBytes(dtype); }

int64_t allocateTensor(int device, int dtype, size_t elements) {
  const DeviceInfo& dev = useDevice(device);
  const size_t bytes = elements * dtypeBytes(dtype);
  if (bytes > dev.totalMemory)
    throw NativeError("RESOURCE_LIMIT", "elements",
                      "elements: " + std::to_string(elements) + " " + dtypeName(dtype) + " values (" + std::to_string(bytes >> 20) +
                          " MiB) exceed the device's memory (" + std::to_string(dev.totalMemory >> 20) + " MiB)");
  std::shared_ptr<DeviceTensor> t(new DeviceTensor(), freeTensor);
  t->device = device;
  t->dtype = dtype;
  t->elements = elements;
  {
    StreamLease lease(device);
    cudaError_t e = cudaMallocAsync(&t->ptr, bytes, lease.get());
    if (e != cudaSuccess) {
      t->ptr = nullptr;
      cudaGetLastError();
      if (e == cudaErrorMemoryAllocation)
        throw NativeError("RESOURCE_LIMIT", "elements", "cuda-native: out of device memory allocating a resident tensor of " + std::to_string(bytes >> 20) + " MiB");
      failCuda(e, "allocating a resident tensor");
    }
    e = cudaMemsetAsync(t->ptr, 0, bytes, lease.get());
    // Synchronised before the id is handed out: later calls use the memory on other streams.
    if (e == cudaSuccess) e = cudaStreamSynchronize(lease.get());
    if (e != cudaSuccess) failCuda(e, "zeroing a resident tensor");  // t frees the memory on the way out
  }
  std::lock_guard<std::mutex> lock(registryMu);
  t->id = nextId++;
  registry()[t->id] = t;
  return t->id;
}

TensorHold holdTensor(int64_t id, const std::string& field) {
  std::lock_guard<std::mutex> lock(registryMu);
  auto it = registry().find(id);
  if (it == registry().end())
    throw NativeError("INVALID_ARGUMENT", field, field + ": device tensor " + std::to_string(id) + " is unknown or was disposed");
  return it->second;
}

bool releaseTensor(int64_t id) {
  std::shared_ptr<DeviceTensor> last;  // dropped after the lock, so a free never runs under it
  std::lock_guard<std::mutex> lock(registryMu);
  auto it = registry().find(id);
  if (it == registry().end()) return false;
  last = std::move(it->second);
  registry().erase(it);
  return true;
}

size_t liveTensorCount() {
  std::lock_guard<std::mutex> lock(registryMu);
  return registry().size();
}

}  // namespace sparse
