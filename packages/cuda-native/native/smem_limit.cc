#include "smem_limit.h"

#include <mutex>
#include <set>
#include <utility>

namespace sparse {
namespace {

cudaError_t realOptin(int device, int* bytes) { return cudaDeviceGetAttribute(bytes, cudaDevAttrMaxSharedMemoryPerBlockOptin, device); }
cudaError_t realStatic(const void* kernel, int* bytes) {
  cudaFuncAttributes a;
  cudaError_t e = cudaFuncGetAttributes(&a, kernel);
  *bytes = (int)a.sharedSizeBytes;
  return e;
}
cudaError_t realSet(const void* kernel, int bytes) { return cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes); }

}  // namespace

const SmemApi& cudaSmemApi() {
  static const SmemApi api{cudaGetDevice, realOptin, realStatic, realSet};
  return api;
}

cudaError_t raiseSmemLimit(const void* kernel, const SmemApi& api) {
  static std::mutex mu;
  static std::set<std::pair<const void*, int>> done;  // (kernel, device) pairs already raised
  int device = 0;
  cudaError_t e = api.getDevice(&device);
  if (e != cudaSuccess) return e;
  std::lock_guard<std::mutex> lock(mu);
  if (done.count({kernel, device})) return cudaSuccess;
  int optin = 0, fixed = 0;
  if ((e = api.optinBytes(device, &optin)) != cudaSuccess) return e;
  if ((e = api.staticBytes(kernel, &fixed)) != cudaSuccess) return e;
  if ((e = api.setMaxDynamic(kernel, optin - fixed)) != cudaSuccess) return e;
  done.insert({kernel, device});
  return cudaSuccess;
}

}  // namespace sparse
