// Per-device state of the process: properties, a pool of streams (one per call in flight), the stream-ordered
// memory pool (cudaMallocAsync with an unbounded release threshold keeps freed blocks for the next call).
#pragma once
#include <cuda_runtime_api.h>

#include <string>

namespace sparse {

struct ProbeInfo {
  bool available = false;
  std::string reason;
  std::string device;
  int deviceCount = 0;
  int driverVersion = 0;
  int runtimeVersion = 0;
  int major = 0, minor = 0;
  size_t totalMemory = 0;
};

ProbeInfo probeDevice(int index);

struct DeviceInfo {
  int index;
  int major, minor;
  size_t smemOptin;
  size_t totalMemory;
};

// Initialises the device once (throws NativeError when it cannot be used) and makes it current on this thread.
const DeviceInfo& useDevice(int index);

// A stream borrowed from the device's pool for the duration of one call.
class StreamLease {
 public:
  explicit StreamLease(int device);
  ~StreamLease();
  StreamLease(const StreamLease&) = delete;
  StreamLease& operator=(const StreamLease&) = delete;
  cudaStream_t get() const { return stream_; }

 private:
  int device_;
  cudaStream_t stream_ = nullptr;
};

// Marks the device unusable after a sticky error; later calls fail fast with DEVICE_LOST.
void markDeviceLost(int index, const std::string& why);

}  // namespace sparse
