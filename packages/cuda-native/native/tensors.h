// Resident tensors: device allocations owned by the addon, so that chained calls keep q, k, v, out and lse on
// the GPU (docs/resident.md). JS holds only an integer id; every use looks the id up again under a lock, so a released
// or unknown id is a typed error, never a dangling pointer. A tensor is freed when it has been released and
// the last operation holding it is done (holds are shared_ptrs, dropped on the worker thread).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace sparse {

struct DeviceTensor {
  int64_t id = 0;
  int device = 0;
  int dtype = 0;  // Precision: kFloat32, kBFloat16, kFloat16
  size_t elements = 0;
  void* ptr = nullptr;
  size_t bytes() const;
};

using TensorHold = std::shared_ptr<const DeviceTensor>;

size_t dtypeBytes(int dtype);
const char* dtypeName(int dtype);

// Allocates `elements` zeroed values of `dtype` on `device` (worker thread; throws NativeError).
int64_t allocateTensor(int device, int dtype, size_t elements);
// The tensor of `id`, held until the returned pointer is dropped; INVALID_ARGUMENT naming `field` otherwise.
TensorHold holdTensor(int64_t id, const std::string& field);
// Forgets the id (later lookups fail); the memory goes once no operation holds it. False for an unknown id.
bool releaseTensor(int64_t id);
// Ids not yet released (for tests and leak checks).
size_t liveTensorCount();

}  // namespace sparse
