// The Node-API surface: probe(), plan(), attention(), buildInfo(). Calls that touch the GPU run on libuv's
// worker threads (Napi::AsyncWorker) and return promises; several may be in flight, each on its own stream.
// Every exception is caught at this boundary and becomes a JS error with a code: nothing aborts the process.
#include <napi.h>

#include <exception>
#include <string>

#include "args.h"
#include "device.h"
#include "errors.h"
#include "kernels.h"
#include "request.h"

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
  void work() override { runAttention(request_, result_); }
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
  return exports;
}

}  // namespace
}  // namespace sparse

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return sparse::Init(env, exports); }

NODE_API_MODULE(sparse_cuda, InitModule)
