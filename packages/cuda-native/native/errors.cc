#include "errors.h"

namespace sparse {

bool cudaErrorIsSticky(cudaError_t e) {
  switch (e) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorLaunchTimeout:
    case cudaErrorECCUncorrectable:
    case cudaErrorAssert:
    case cudaErrorDevicesUnavailable:
    case cudaErrorContextIsDestroyed:
    case cudaErrorUnknown:
      return true;
    default:
      return false;
  }
}

const char* cudaErrorCode(cudaError_t e) {
  switch (e) {
    case cudaErrorMemoryAllocation:
    case cudaErrorLaunchOutOfResources:
    case cudaErrorTooManyPeers:
      return "RESOURCE_LIMIT";
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorInitializationError:
    case cudaErrorInvalidDevice:
    case cudaErrorSystemDriverMismatch:
    case cudaErrorCompatNotSupportedOnDevice:
      return "BACKEND_UNAVAILABLE";
    case cudaErrorNoKernelImageForDevice:
    case cudaErrorInvalidKernelImage:
    case cudaErrorUnsupportedPtxVersion:
      return "UNSUPPORTED";
    default:
      return cudaErrorIsSticky(e) ? "DEVICE_LOST" : "INTERNAL";
  }
}

void failCuda(cudaError_t e, const std::string& what) {
  const char* code = cudaErrorCode(e);
  std::string msg = std::string("cuda-native: ") + what + " failed: " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
  if (std::string(code) == "DEVICE_LOST") msg += "; the CUDA context is unusable, create a new process to use the GPU again";
  throw NativeError(code, "device", msg);
}

}  // namespace sparse
