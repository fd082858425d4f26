// The Node-API surface: probe(), plan(), attention(), buildInfo(), and the resident tensors (tensorAllocate,
// tensorWrite, tensorRead, tensorCast, tensorRelease, tensorCount). Calls that touch the GPU run on libuv's
// worker threads (Napi::AsyncWorker) and return promises; several may be in flight, each on its own stream.
// Every exception is caught at this boundary and becomes a JS error with a code: nothing aborts the process.
#include <napi.h>

#include <cmath>
#include <exception>
#include <functional>
#include <string>

#include "args.h"
#include "device.h"
#include "errors.h"
#include "kernels.h"
#include "request.h"
#include "tensors.h"

#ifndef SPARSE_CUDA_ARCHS
#define SPARSE_CUDA_ARCHS "unknown"
#endif

namespace sparse {
namespace {

Napi::Error makeError(Napi::Env env, const std::string& code, const std::string& field, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("name", Napi::String::New(env, "SparseAttentionError"));
  err.Set("code", Napi::String::New(env, code));
  if (!field.empty()) err.Set("field", Napi::String::New(env, field));
  return err;
}

// Runs fn, turning every C++ exception into a thrown JS error.
template <typename Fn>
Napi::Value guarded(const Napi::CallbackInfo& info, Fn fn) {
  Napi::Env env = info.Env();
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (const NativeError& e) {
    throw makeError(env, e.code, e.field, e.what());
  } catch (const std::exception& e) {
    throw makeError(env, "INTERNAL", "", std::string("cuda-native: ") + e.what());
  } catch (...) {
    throw makeError(env, "INTERNAL", "", "cuda-native: unknown native exception");
  }
}

class PromiseWorker : public Napi::AsyncWorker {
 public:
  explicit PromiseWorker(Napi::Env env) : Napi::AsyncWorker(env, "sparse-cuda-native"), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  virtual void work() = 0;
  virtual Napi::Value result(Napi::Env env) = 0;

  void Execute() override {
    try {
      work();
    } catch (const NativeError& e) {
      code_ = e.code;
      field_ = e.field;
      SetError(e.what());
    } catch (const std::exception& e) {
      code_ = "INTERNAL";
      SetError(std::string("cuda-native: ") + e.what());
    } catch (...) {
      code_ = "INTERNAL";
      SetError("cuda-native: unknown native exception");
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    try {
      deferred_.Resolve(result(env));
    } catch (const std::exception& e) {
      deferred_.Reject(makeError(env, "INTERNAL", "", e.what()).Value());
    }
  }
  void OnError(const Napi::Error& e) override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    deferred_.Reject(makeError(env, code_, field_, e.Message()).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::string code_ = "INTERNAL";
  std::string field_;
};

class ProbeWorker : public PromiseWorker {
 public:
  ProbeWorker(Napi::Env env, int device) : PromiseWorker(env), device_(device) {}

 protected:
  void work() override { info_ = probeDevice(device_); }
  Napi::Value result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("available", info_.available);
    if (!info_.reason.empty()) o.Set("reason", info_.reason);
    if (!info_.device.empty()) o.Set("device", info_.device);
    o.Set("deviceCount", info_.deviceCount);
    o.Set("driverVersion", info_.driverVersion);
    o.Set("runtimeVersion", info_.runtimeVersion);
    if (info_.major) o.Set("computeCapability", std::to_string(info_.major) + "." + std::to_string(info_.minor));
    if (info_.totalMemory) o.Set("totalMemory", (double)info_.totalMemory);
    return o;
  }

 private:
  int device_;
  ProbeInfo info_;
};

class AttentionWorker : public PromiseWorker {
 public:
  AttentionWorker(Napi::Env env, const Request& r, const Napi::Object& args) : PromiseWorker(env), request_(r) {
    // Keep every buffer the request points into alive (and unmoved) until the worker is done.
    keep_ = Napi::Persistent(args);
  }

 protected:
  void work() override {
    // Drop the resident-tensor holds here, on the worker thread: a tensor released meanwhile is freed now.
    try {
      runAttention(request_, result_);
    } catch (...) {
      request_.holds.clear();
      throw;
    }
    request_.holds.clear();
  }
  Napi::Value result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    Napi::Array ms = Napi::Array::New(env, result_.iterationMs.size());
    for (size_t n = 0; n < result_.iterationMs.size(); n++) ms.Set((uint32_t)n, result_.iterationMs[n]);
    o.Set("iterationMs", ms);
    o.Set("kernel", request_.kernel.kind);
    return o;
  }

 private:
  Request request_;
  RunResult result_;
  Napi::ObjectReference keep_;
};

// A blocking job for the worker thread and the value its promise resolves with. `keep` (a typed array the job
// reads or writes) stays referenced, so its memory cannot move or go, until the job is done.
class TaskWorker : public PromiseWorker {
 public:
  TaskWorker(Napi::Env env, int device, std::function<void()> job, std::function<Napi::Value(Napi::Env)> done, Napi::Value keep = Napi::Value())
      : PromiseWorker(env), device_(device), job_(std::move(job)), done_(std::move(done)) {
    if (!keep.IsEmpty() && keep.IsObject()) keep_ = Napi::Persistent(keep.As<Napi::Object>());
  }

 protected:
  void work() override {
    try {
      job_();
    } catch (const NativeError& e) {
      if (e.code == "DEVICE_LOST") markDeviceLost(device_, e.what());
      job_ = nullptr;
      throw;
    } catch (...) {
      job_ = nullptr;
      throw;
    }
    job_ = nullptr;  // drops the holds the job captured, on this thread
  }
  Napi::Value result(Napi::Env env) override { return done_ ? done_(env) : env.Undefined(); }

 private:
  int device_;
  std::function<void()> job_;
  std::function<Napi::Value(Napi::Env)> done_;
  Napi::ObjectReference keep_;
};

Napi::Promise queue(TaskWorker* w) {
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

// A non-negative integer argument up to `hi` (element counts and offsets are exact in a double below 2^53).
uint64_t count(const Napi::CallbackInfo& info, size_t at, const char* field, uint64_t hi) {
  if (info.Length() <= at || !info[at].IsNumber()) throw NativeError("INVALID_ARGUMENT", field, std::string(field) + ": must be an integer");
  const double d = info[at].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::floor(d) || d < 0 || d > (double)hi)
    throw NativeError("INVALID_ARGUMENT", field, std::string(field) + ": must be an integer in [0, " + std::to_string(hi) + "] (got " + std::to_string(d) + ")");
  return (uint64_t)d;
}

constexpr uint64_t kMaxSafe = 9007199254740991ull;

TensorHold tensorArg(const Napi::CallbackInfo& info, size_t at, const char* field) {
  const uint64_t id = count(info, at, field, kMaxSafe);
  return holdTensor((int64_t)id, field);
}

Napi::Float32Array floatsArg(const Napi::CallbackInfo& info, size_t at, const char* field) {
  if (info.Length() <= at || !info[at].IsTypedArray() || info[at].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw NativeError("INVALID_ARGUMENT", field, std::string(field) + ": must be a Float32Array");
  Napi::Float32Array a = info[at].As<Napi::Float32Array>();
  if (a.ElementLength() > 0 && a.Data() == nullptr) throw NativeError("INVALID_ARGUMENT", field, std::string(field) + ": has no backing store (detached ArrayBuffer)");
  return a;
}

void checkRange(const TensorHold& t, uint64_t offset, uint64_t length, const char* field) {
  if (offset > t->elements || length > t->elements - offset)
    throw NativeError("INVALID_SHAPE", field,
                      std::string(field) + ": values [" + std::to_string(offset) + ", " + std::to_string(offset + length) + ") lie outside the device tensor of " +
                          std::to_string(t->elements) + " values");
}

// tensorAllocate(device, dtype, elements) -> Promise<id>: zeroed device memory.
Napi::Value TensorAllocate(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const int device = (int)count(info, 0, "device", 1024);
    const int dtype = (int)count(info, 1, "dtype", kFloat16);
    const uint64_t elements = count(info, 2, "elements", kMaxSafe / 4);
    if (elements == 0) throw NativeError("INVALID_ARGUMENT", "elements", "elements: a device tensor holds at least one value");
    auto id = std::make_shared<int64_t>(0);
    return queue(new TaskWorker(
        info.Env(), device, [=]() { *id = allocateTensor(device, dtype, elements); },
        [=](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, (double)*id); }));
  });
}

// tensorWrite(id, src: Float32Array, offset) -> Promise: src converted to the tensor's dtype at values [offset, offset + src.length).
Napi::Value TensorWrite(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    TensorHold t = tensorArg(info, 0, "tensor");
    Napi::Float32Array src = floatsArg(info, 1, "data");
    const uint64_t offset = count(info, 2, "offset", kMaxSafe);
    checkRange(t, offset, src.ElementLength(), "data");
    const float* data = src.Data();
    const size_t n = src.ElementLength();
    return queue(new TaskWorker(info.Env(), t->device, [=]() { writeTensor(t, data, offset, n); }, nullptr, src));
  });
}

// tensorRead(id, offset, dst: Float32Array) -> Promise: values [offset, offset + dst.length) as float32.
Napi::Value TensorRead(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    TensorHold t = tensorArg(info, 0, "tensor");
    const uint64_t offset = count(info, 1, "offset", kMaxSafe);
    Napi::Float32Array dst = floatsArg(info, 2, "out");
    checkRange(t, offset, dst.ElementLength(), "out");
    float* data = dst.Data();
    const size_t n = dst.ElementLength();
    return queue(new TaskWorker(info.Env(), t->device, [=]() { readTensor(t, data, offset, n); }, nullptr, dst));
  });
}

// tensorCast(src, dst) -> Promise: dst = src converted to dst's dtype (same device, same number of values).
Napi::Value TensorCast(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    TensorHold src = tensorArg(info, 0, "source");
    TensorHold dst = tensorArg(info, 1, "target");
    if (src->id == dst->id) throw NativeError("INVALID_ARGUMENT", "target", "target: must be a different device tensor than the source");
    if (src->device != dst->device)
      throw NativeError("INVALID_ARGUMENT", "target", "target: lives on CUDA device " + std::to_string(dst->device) + ", the source on device " + std::to_string(src->device));
    if (src->elements != dst->elements)
      throw NativeError("INVALID_SHAPE", "target",
                        "target: holds " + std::to_string(dst->elements) + " values, the source " + std::to_string(src->elements));
    return queue(new TaskWorker(info.Env(), src->device, [=]() { castTensor(src, dst); }, nullptr));
  });
}

// tensorRelease(id) -> Promise<boolean>: forgets the id; false when it was unknown (already released).
Napi::Value TensorRelease(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const int64_t id = (int64_t)count(info, 0, "tensor", kMaxSafe);
    auto released = std::make_shared<bool>(false);
    // The free (when no call holds the tensor) runs on the worker thread: cudaFree synchronises the device.
    return queue(new TaskWorker(
        info.Env(), 0, [=]() { *released = releaseTensor(id); }, [=](Napi::Env env) -> Napi::Value { return Napi::Boolean::New(env, *released); }));
  });
}

Napi::Value TensorCount(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), (double)liveTensorCount()); }

Napi::Value Probe(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int device = 0;
    if (info.Length() > 0 && !info[0].IsUndefined()) {
      if (!info[0].IsNumber()) throw NativeError("INVALID_ARGUMENT", "device", "device: must be a device index");
      device = info[0].As<Napi::Number>().Int32Value();
    }
    auto* w = new ProbeWorker(info.Env(), device);
    Napi::Promise p = w->promise();
    w->Queue();
    return p;
  });
}

Napi::Value Plan(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsBoolean())
      throw NativeError("INVALID_ARGUMENT", "plan", "plan(precision, headDim, headDimV, hasTopk): wrong arguments");
    const int precision = info[0].As<Napi::Number>().Int32Value();
    const int D = info[1].As<Napi::Number>().Int32Value();
    const int Dv = info[2].As<Napi::Number>().Int32Value();
    if (precision < kFloat32 || precision > kFloat16) throw NativeError("INVALID_ARGUMENT", "precision", "precision: must be 0, 1 or 2");
    if (D < 1 || Dv < 1 || D > kMaxHeadDim || Dv > kMaxHeadDim)
      throw NativeError("UNSUPPORTED", "headDim", "headDim: D and Dv must lie in [1, 256] (got " + std::to_string(D) + ", " + std::to_string(Dv) + ")");
    const KernelConfig c = chooseKernel(precision, D, Dv, info[3].As<Napi::Boolean>().Value());
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("kernel", c.kind);
    o.Set("blockQ", c.blockQ);
    o.Set("blockK", c.blockK);
    o.Set("threads", c.threads);
    o.Set("sharedMemory", (double)attentionSmemBytes(precision, c.kind, D, Dv));
    return o;
  });
}

Napi::Value Attention(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsObject()) throw NativeError("INVALID_ARGUMENT", "args", "attention(args): args must be an object");
    Napi::Object args = info[0].As<Napi::Object>();
    const Request r = parseRequest(args);
    auto* w = new AttentionWorker(info.Env(), r, args);
    Napi::Promise p = w->promise();
    w->Queue();
    return p;
  });
}

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("cudaRuntime", CUDART_VERSION);
  o.Set("archs", SPARSE_CUDA_ARCHS);
  o.Set("napiVersion", NAPI_VERSION);
  o.Set("maxHeadDim", kMaxHeadDim);
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("probe", Napi::Function::New(env, Probe, "probe"));
  exports.Set("plan", Napi::Function::New(env, Plan, "plan"));
  exports.Set("attention", Napi::Function::New(env, Attention, "attention"));
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo, "buildInfo"));
  exports.Set("tensorAllocate", Napi::Function::New(env, TensorAllocate, "tensorAllocate"));
  exports.Set("tensorWrite", Napi::Function::New(env, TensorWrite, "tensorWrite"));
  exports.Set("tensorRead", Napi::Function::New(env, TensorRead, "tensorRead"));
  exports.Set("tensorCast", Napi::Function::New(env, TensorCast, "tensorCast"));
  exports.Set("tensorRelease", Napi::Function::New(env, TensorRelease, "tensorRelease"));
  exports.Set("tensorCount", Napi::Function::New(env, TensorCount, "tensorCount"));
  return exports;
}

}  // namespace
}  // namespace sparse

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return sparse::Init(env, exports); }

NODE_API_MODULE(sparse_cuda, InitModule)
