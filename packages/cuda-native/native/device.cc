#include "device.h"

#include <dlfcn.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "errors.h"
#include "kernels.h"

namespace sparse {
namespace {

struct DeviceState {
  std::mutex mu;
  bool initialised = false;
  std::string lost;  // non-empty once a sticky error hit the context
  DeviceInfo info{};
  std::vector<cudaStream_t> idle;
};

std::mutex registryMu;
std::map<int, std::unique_ptr<DeviceState>>& registry() {
  static auto* r = new std::map<int, std::unique_ptr<DeviceState>>();  // never destroyed: streams outlive exit
  return *r;
}

DeviceState& state(int index) {
  std::lock_guard<std::mutex> lock(registryMu);
  auto& slot = registry()[index];
  if (!slot) slot = std::make_unique<DeviceState>();
  return *slot;
}

std::string versionText(int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }

// Why cudaGetDeviceCount failed, in words a user can act on.
std::string noDeviceReason(cudaError_t e) {
  void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) return "no CUDA device: the NVIDIA driver is not installed (libcuda.so.1 was not found)";
  dlclose(lib);
  int driver = 0;
  cudaDriverGetVersion(&driver);
  switch (e) {
    case cudaErrorNoDevice:
      return "no CUDA device: the NVIDIA driver is installed but reports no GPU";
    case cudaErrorInsufficientDriver:
      return "no CUDA device usable: the NVIDIA driver supports CUDA " + versionText(driver) + ", older than this build's CUDA runtime " +
             versionText(CUDART_VERSION) + " needs (update the driver or rebuild with an older CUDA toolkit)";
    default:
      return std::string("no CUDA device: ") + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
  }
}

}  // namespace

ProbeInfo probeDevice(int index) {
  ProbeInfo p;
  cudaRuntimeGetVersion(&p.runtimeVersion);
  cudaError_t e = cudaGetDeviceCount(&p.deviceCount);
  cudaDriverGetVersion(&p.driverVersion);
  if (e != cudaSuccess) {
    cudaGetLastError();
    p.deviceCount = 0;
    p.reason = noDeviceReason(e);
    return p;
  }
  if (p.deviceCount == 0) {
    p.reason = "no CUDA device: the NVIDIA driver reports no GPU";
    return p;
  }
  if (index < 0 || index >= p.deviceCount) {
    p.reason = "device index " + std::to_string(index) + " is out of range: " + std::to_string(p.deviceCount) + " CUDA device(s)";
    return p;
  }
  cudaDeviceProp prop;
  e = cudaGetDeviceProperties(&prop, index);
  if (e != cudaSuccess) {
    p.reason = std::string("cannot read the properties of CUDA device ") + std::to_string(index) + ": " + cudaGetErrorString(e);
    return p;
  }
  p.major = prop.major;
  p.minor = prop.minor;
  p.totalMemory = prop.totalGlobalMem;
  p.device = std::string(prop.name) + " (compute capability " + std::to_string(prop.major) + "." + std::to_string(prop.minor) + ", " +
             std::to_string(prop.totalGlobalMem >> 20) + " MiB, driver " + versionText(p.driverVersion) + ", runtime " +
             versionText(p.runtimeVersion) + ")";
  if (prop.major < 8) {
    p.reason = p.device + " is older than compute capability 8.0 (Ampere), which this build targets";
    return p;
  }
  try {
    useDevice(index);
  } catch (const NativeError& err) {
    p.reason = err.what();
    return p;
  }
  p.available = true;
  return p;
}

const DeviceInfo& useDevice(int index) {
  DeviceState& s = state(index);
  std::lock_guard<std::mutex> lock(s.mu);
  if (!s.lost.empty()) throw NativeError("DEVICE_LOST", "device", s.lost);
  cudaError_t e = cudaSetDevice(index);
  if (e != cudaSuccess) {
    cudaGetLastError();
    if (std::string(cudaErrorCode(e)) == "BACKEND_UNAVAILABLE") throw NativeError("BACKEND_UNAVAILABLE", "device", "cuda-native: " + noDeviceReason(e));
    failCuda(e, "cudaSetDevice(" + std::to_string(index) + ")");
  }
  if (s.initialised) return s.info;
  cudaDeviceProp prop;
  if ((e = cudaGetDeviceProperties(&prop, index)) != cudaSuccess) failCuda(e, "cudaGetDeviceProperties");
  if (prop.major < 8)
    throw NativeError("UNSUPPORTED", "device",
                      std::string("cuda-native: ") + prop.name + " has compute capability " + std::to_string(prop.major) + "." +
                          std::to_string(prop.minor) + "; this build needs 8.0 or newer");
  if ((e = kernelImageCheck()) != cudaSuccess) failCuda(e, "loading the kernels for " + std::string(prop.name));
  cudaMemPool_t pool;
  if (cudaDeviceGetDefaultMemPool(&pool, index) == cudaSuccess) {
    uint64_t keep = UINT64_MAX;
    cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep);
  }
  cudaGetLastError();
  s.info = DeviceInfo{index, prop.major, prop.minor, prop.sharedMemPerBlockOptin, prop.totalGlobalMem};
  s.initialised = true;
  return s.info;
}

void markDeviceLost(int index, const std::string& why) {
  DeviceState& s = state(index);
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.lost.empty()) s.lost = why;
}

StreamLease::StreamLease(int device) : device_(device) {
  DeviceState& s = state(device);
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (!s.idle.empty()) {
      stream_ = s.idle.back();
      s.idle.pop_back();
      return;
    }
  }
  cudaError_t e = cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking);
  if (e != cudaSuccess) failCuda(e, "cudaStreamCreate");
}

StreamLease::~StreamLease() {
  if (!stream_) return;
  DeviceState& s = state(device_);
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.lost.empty()) s.idle.push_back(stream_);
}

}  // namespace sparse
