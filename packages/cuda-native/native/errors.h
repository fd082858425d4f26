// Errors raised by the native layer: a stable code of @sparse/core's SparseErrorCode, the offending field and
// a message naming field and value. They are C++ exceptions inside the addon and become JS errors (name
// 'SparseAttentionError', with code and field) at the boundary; nothing ever aborts the process.
#pragma once
#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

namespace sparse {

struct NativeError : std::runtime_error {
  std::string code;
  std::string field;
  NativeError(std::string c, std::string f, const std::string& message) : std::runtime_error(message), code(std::move(c)), field(std::move(f)) {}
};

[[noreturn]] inline void fail(const char* code, const std::string& field, const std::string& problem) {
  throw NativeError(code, field, field + ": " + problem);
}

// Maps a CUDA error to a code: allocation and resource failures are RESOURCE_LIMIT, sticky launch failures
// DEVICE_LOST, missing drivers or devices BACKEND_UNAVAILABLE, missing kernel images UNSUPPORTED.
const char* cudaErrorCode(cudaError_t e);
bool cudaErrorIsSticky(cudaError_t e);
[[noreturn]] void failCuda(cudaError_t e, const std::string& what);

}  // namespace sparse
