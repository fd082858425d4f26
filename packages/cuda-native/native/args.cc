#include "args.h"

#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <tuple>

#include "errors.h"
#include "kernels.h"
#include "tensors.h"

namespace sparse {
namespace {

constexpr int64_t kMaxDim = std::numeric_limits<int32_t>::max();

std::string num(uint64_t x) { return std::to_string(x); }

// A typed array argument of the expected element type; its data pointer and element count.
template <typename T>
struct View {
  T* data = nullptr;
  size_t length = 0;
  size_t bytes = 0;
  bool present = false;
};

template <typename T>
View<T> typed(const Napi::Object& args, const char* field, napi_typedarray_type type, const char* typeName, bool optional = false) {
  Napi::Value v = args.Get(field);
  View<T> out;
  if (optional && (v.IsUndefined() || v.IsNull())) return out;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type)
    fail("INVALID_ARGUMENT", field, std::string("must be a ") + typeName + (optional ? " or null" : ""));
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  out.bytes = ta.ByteLength();
  out.length = ta.ElementLength();
  out.data = reinterpret_cast<T*>(static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset());
  out.present = true;
  if (out.length > 0 && out.data == nullptr) fail("INVALID_ARGUMENT", field, "has no backing store (detached ArrayBuffer)");
  return out;
}

int64_t integer(const Napi::Object& args, const char* field, int64_t lo, int64_t hi) {
  Napi::Value v = args.Get(field);
  if (!v.IsNumber()) fail("INVALID_ARGUMENT", field, "must be an integer");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::floor(d) || d < (double)lo || d > (double)hi)
    fail("INVALID_ARGUMENT", field, "must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "] (got " + std::to_string(d) + ")");
  return (int64_t)d;
}

// a * b * ... with overflow detection (sizes are positive and <= 2^31 each).
uint64_t product(std::initializer_list<uint64_t> xs, const char* field) {
  unsigned __int128 p = 1;
  for (uint64_t x : xs) {
    p *= x;
    if (p > ((unsigned __int128)1 << 62)) fail("RESOURCE_LIMIT", field, "size overflows 2^62 elements");
  }
  return (uint64_t)p;
}

void expectBytes(const char* field, size_t got, uint64_t elems, size_t elemBytes, const std::string& formula) {
  const uint64_t want = elems * elemBytes;
  if (got != want)
    fail("INVALID_SHAPE", field, "byteLength must be " + formula + " = " + num(want) + " bytes for the given dims (got " + num(got) + ")");
}

// A tensor operand: a Float32Array on the host, or the id of a resident tensor (a positive integer) that must
// hold exactly `elems` values of `dtype` on the call's device.
struct Operand {
  void* host = nullptr;
  void* device = nullptr;
  int64_t id = 0;
  bool present = false;
};

Operand operand(const Napi::Object& args, const char* field, uint64_t elems, const std::string& formula, int dtype, int device, Request& r,
                bool optional = false) {
  Napi::Value v = args.Get(field);
  Operand o;
  if (v.IsNumber()) {
    const double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || d != std::floor(d) || d < 1 || d > 9007199254740991.0)
      fail("INVALID_ARGUMENT", field, "a device tensor id must be a positive integer (got " + std::to_string(d) + ")");
    TensorHold t = holdTensor((int64_t)d, field);
    if (t->device != device)
      fail("INVALID_ARGUMENT", field, "the device tensor lives on CUDA device " + std::to_string(t->device) + ", the call runs on device " + std::to_string(device));
    if (t->dtype != dtype)
      fail("INVALID_ARGUMENT", field, std::string("the device tensor holds ") + dtypeName(t->dtype) + " values, this operand must be " + dtypeName(dtype));
    if (t->elements != elems)
      fail("INVALID_SHAPE", field, "the device tensor holds " + num(t->elements) + " values, " + formula + " = " + num(elems) + " for the given dims");
    o.device = t->ptr;
    o.id = t->id;
    o.present = true;
    r.holds.push_back(std::move(t));
    return o;
  }
  auto h = typed<float>(args, field, napi_float32_array, "Float32Array or a device tensor id", optional);
  if (!h.present) return o;
  expectBytes(field, h.bytes, elems, 4, formula + "*4");
  o.host = h.data;
  o.present = true;
  return o;
}

}  // namespace

Request parseRequest(const Napi::Object& args) {
  Request r;
  auto dims = typed<const int32_t>(args, "dims", napi_int32_array, "Int32Array [B, Hq, Hkv, Sq, Sk, D, Dv]");
  if (dims.length != 7) fail("INVALID_ARGUMENT", "dims", "must hold 7 sizes [B, Hq, Hkv, Sq, Sk, D, Dv] (got " + num(dims.length) + ")");
  static const char* names[7] = {"dims[0] (B)", "dims[1] (Hq)", "dims[2] (Hkv)", "dims[3] (Sq)", "dims[4] (Sk)", "dims[5] (D)", "dims[6] (Dv)"};
  for (int n = 0; n < 7; n++)
    if (dims.data[n] < 1) fail("INVALID_SHAPE", names[n], "must be a positive size (got " + std::to_string(dims.data[n]) + ")");
  r.batch = dims.data[0];
  r.headsQ = dims.data[1];
  r.headsKv = dims.data[2];
  r.seqQ = dims.data[3];
  r.seqK = dims.data[4];
  r.headDim = dims.data[5];
  r.headDimV = dims.data[6];
  if (r.headsQ % r.headsKv != 0)
    fail("INVALID_SHAPE", "dims[2] (Hkv)", "must divide Hq = " + std::to_string(r.headsQ) + " (got " + std::to_string(r.headsKv) + ")");
  if (r.headDim > kMaxHeadDim) fail("UNSUPPORTED", "dims[5] (D)", "head dims above 256 are not supported (got " + std::to_string(r.headDim) + ")");
  if (r.headDimV > kMaxHeadDim) fail("UNSUPPORTED", "dims[6] (Dv)", "head dims above 256 are not supported (got " + std::to_string(r.headDimV) + ")");
  if ((int64_t)r.batch * r.headsQ > kMaxDim) fail("RESOURCE_LIMIT", "dims", "B * Hq must stay below 2^31");

  const std::string layout = args.Get("layout").IsString() ? args.Get("layout").As<Napi::String>().Utf8Value() : "";
  if (layout != "bhsd" && layout != "bshd") fail("INVALID_ARGUMENT", "layout", "must be \"bhsd\" or \"bshd\"");
  r.bshd = layout == "bshd";
  Napi::Value scale = args.Get("scale");
  if (!scale.IsNumber() || !std::isfinite(scale.As<Napi::Number>().DoubleValue())) fail("INVALID_ARGUMENT", "scale", "must be a finite number");
  r.scale = scale.As<Napi::Number>().DoubleValue();
  r.precision = (int)integer(args, "precision", kFloat32, kFloat16);
  r.device = (int)integer(args, "device", 0, 1024);
  r.warmup = args.Has("warmup") ? (int)integer(args, "warmup", 0, 1000) : 0;
  r.iterations = args.Has("iterations") ? (int)integer(args, "iterations", 0, 100000) : 0;

  const uint64_t B = r.batch, Hq = r.headsQ, Hkv = r.headsKv, Sq = r.seqQ, Sk = r.seqK, D = r.headDim, Dv = r.headDimV;
  const int storage = r.precision;
  const Operand q = operand(args, "q", product({B, Hq, Sq, D}, "q"), "B*Hq*Sq*D", storage, r.device, r);
  const Operand k = operand(args, "k", product({B, Hkv, Sk, D}, "k"), "B*Hkv*Sk*D", storage, r.device, r);
  const Operand v = operand(args, "v", product({B, Hkv, Sk, Dv}, "v"), "B*Hkv*Sk*Dv", storage, r.device, r);
  const Operand out = operand(args, "out", product({B, Hq, Sq, Dv}, "out"), "B*Hq*Sq*Dv", kFloat32, r.device, r);
  const Operand lse = operand(args, "lse", product({B, Hq, Sq}, "lse"), "B*Hq*Sq", kFloat32, r.device, r, true);
  // The kernels read q, k, v while writing out and lse: a resident output must not alias an input or the other output.
  for (const Operand* in : {&q, &k, &v, &lse})
    if (out.id && in->id == out.id) fail("INVALID_ARGUMENT", "out", "must not be the same device tensor as an input or lse");
  for (const Operand* in : {&q, &k, &v})
    if (lse.id && in->id == lse.id) fail("INVALID_ARGUMENT", "lse", "must not be the same device tensor as an input");
  r.q = static_cast<const float*>(q.host);
  r.k = static_cast<const float*>(k.host);
  r.v = static_cast<const float*>(v.host);
  r.out = static_cast<float*>(out.host);
  r.lse = static_cast<float*>(lse.host);
  r.qDev = q.device;
  r.kDev = k.device;
  r.vDev = v.device;
  r.outDev = static_cast<float*>(out.device);
  r.lseDev = static_cast<float*>(lse.device);
  r.wantLse = lse.present;

  // Kernel and tiles: the masks must have been compiled for exactly this kernel's tile sizes.
  const int kind = (int)integer(args, "kernel", kSimt, kMma256);
  if (!validKernel(r.precision, kind))
    fail("INVALID_ARGUMENT", "kernel", "kernel " + std::to_string(kind) + " does not exist for precision " + std::to_string(r.precision));
  r.kernel = chooseKernel(r.precision, r.headDim, r.headDimV, kind == kSimt);
  if (kind != kSimt && kind < r.kernel.kind)
    fail("INVALID_ARGUMENT", "kernel", "the tensor-core tier of kernel " + std::to_string(kind) + " is too small for D=" + std::to_string(D) + ", Dv=" + std::to_string(Dv));
  if (kind != kSimt) r.kernel = KernelConfig{kind, 64, kind == kMma256 ? 32 : 64, 128};
  const int blockQ = (int)integer(args, "blockQ", 1, 4096);
  const int blockK = (int)integer(args, "blockK", 1, 4096);
  if (blockQ != r.kernel.blockQ || blockK != r.kernel.blockK)
    fail("INVALID_ARGUMENT", "blockQ", "the masks must be compiled with tiles " + std::to_string(r.kernel.blockQ) + "x" + std::to_string(r.kernel.blockK) +
                                            " for this kernel (got " + std::to_string(blockQ) + "x" + std::to_string(blockK) + ")");
  r.numQBlocks = (int)((Sq + blockQ - 1) / blockQ);
  r.numKBlocks = (int)((Sk + blockK - 1) / blockK);
  r.wordsPerRow = (blockK + 31) / 32;

  auto rowPtr = typed<const int32_t>(args, "rowPtr", napi_int32_array, "Int32Array");
  auto colIdx = typed<const int32_t>(args, "colIdx", napi_int32_array, "Int32Array");
  auto partialIdx = typed<const int32_t>(args, "partialIdx", napi_int32_array, "Int32Array");
  auto bits = typed<const uint32_t>(args, "bits", napi_uint32_array, "Uint32Array");
  auto heads = typed<const int32_t>(args, "heads", napi_int32_array, "Int32Array");
  auto centroids = typed<const double>(args, "centroids", napi_float64_array, "Float64Array", true);
  if (partialIdx.length != colIdx.length)
    fail("INVALID_SHAPE", "partialIdx", "length must equal colIdx's (" + num(colIdx.length) + ") (got " + num(partialIdx.length) + ")");
  if (heads.length != Hq * HEAD_WORDS)
    fail("INVALID_SHAPE", "heads", "length must be Hq*" + std::to_string(HEAD_WORDS) + " = " + num(Hq * HEAD_WORDS) + " (got " + num(heads.length) + ")");
  if (rowPtr.length > (size_t)kMaxDim || colIdx.length > (size_t)kMaxDim || bits.length > (size_t)kMaxDim || centroids.length > (size_t)kMaxDim)
    fail("RESOURCE_LIMIT", "rowPtr", "mask arrays must hold fewer than 2^31 entries");
  r.rowPtr = rowPtr.data;
  r.rowPtrLen = rowPtr.length;
  r.colIdx = colIdx.data;
  r.partialIdx = partialIdx.data;
  r.colLen = colIdx.length;
  r.bits = bits.data;
  r.bitsLen = bits.length;
  r.heads = heads.data;
  r.centroids = centroids.present ? centroids.data : nullptr;
  r.centroidsLen = centroids.length;

  // Every head's descriptor, then every distinct mask once: all indices the kernels will follow.
  const uint64_t tileWords = (uint64_t)blockQ * r.wordsPerRow;
  std::set<std::tuple<int, int, int>> checked;
  for (int h = 0; h < r.headsQ; h++) {
    const int32_t* d = heads.data + (size_t)h * HEAD_WORDS;
    const std::string f = "heads[" + std::to_string(h) + "]";
    const int64_t rp = d[HEAD_ROW_PTR], co = d[HEAD_COL_IDX], bo = d[HEAD_BITS], mode = d[HEAD_MODE], param = d[HEAD_PARAM], cen = d[HEAD_CENTROIDS];
    if (rp < 0 || (uint64_t)rp + r.numQBlocks + 1 > rowPtr.length)
      fail("INVALID_ARGUMENT", f + ".rowPtrOffset", "needs " + std::to_string(r.numQBlocks + 1) + " rowPtr entries from " + std::to_string(rp) +
                                                    " inside rowPtr (length " + num(rowPtr.length) + ")");
    if (co < 0 || (uint64_t)co > colIdx.length) fail("INVALID_ARGUMENT", f + ".colOffset", "must lie in [0, " + num(colIdx.length) + "] (got " + std::to_string(co) + ")");
    if (bo < 0 || (uint64_t)bo > bits.length) fail("INVALID_ARGUMENT", f + ".bitsOffset", "must lie in [0, " + num(bits.length) + "] (got " + std::to_string(bo) + ")");
    if (mode < MODE_STATIC || mode > MODE_CLUSTER) fail("INVALID_ARGUMENT", f + ".mode", "must be 0 (static), 1 (topk) or 2 (cluster) (got " + std::to_string(mode) + ")");
    if (mode == MODE_TOPK) {
      if (param < 1) fail("INVALID_ARGUMENT", f + ".k", "top-k needs k >= 1 (got " + std::to_string(param) + ")");
      r.hasTopk = true;
    }
    if (mode == MODE_CLUSTER) {
      if (param < 1) fail("INVALID_ARGUMENT", f + ".centroids", "cluster needs at least one centroid (got " + std::to_string(param) + ")");
      if (cen < 0 || (uint64_t)cen + (uint64_t)param * D > centroids.length)
        fail("INVALID_ARGUMENT", f + ".centroidOffset",
             "needs C*D = " + num((uint64_t)param * D) + " centroid values from " + std::to_string(cen) + " inside centroids (length " + num(centroids.length) + ")");
      r.hasCluster = true;
    }
    if (!checked.insert({(int)rp, (int)co, (int)bo}).second && mode != MODE_TOPK) continue;
    const int32_t* rowp = rowPtr.data + rp;
    if (rowp[0] < 0) fail("INVALID_ARGUMENT", f + ".rowPtr[0]", "must be >= 0 (got " + std::to_string(rowp[0]) + ")");
    for (int qb = 0; qb < r.numQBlocks; qb++) {
      const int32_t a = rowp[qb], b = rowp[qb + 1];
      if (b < a) fail("INVALID_ARGUMENT", f + ".rowPtr[" + std::to_string(qb + 1) + "]", "must be non-decreasing (got " + std::to_string(b) + " after " + std::to_string(a) + ")");
      if ((uint64_t)co + (uint64_t)b > colIdx.length)
        fail("INVALID_ARGUMENT", f + ".rowPtr[" + std::to_string(qb + 1) + "]",
             "points past colIdx: offset " + std::to_string(co) + " + " + std::to_string(b) + " > length " + num(colIdx.length));
      if (mode == MODE_TOPK && (int64_t)(b - a) * blockK > r.maxTopkSlots) r.maxTopkSlots = (int)std::min<int64_t>((int64_t)(b - a) * blockK, kMaxDim);
      for (int32_t n = a; n < b; n++) {
        const int32_t c = colIdx.data[co + n];
        const int32_t P = partialIdx.data[co + n];
        if (c < 0 || c >= r.numKBlocks)
          fail("INVALID_ARGUMENT", f + ".colIdx[" + std::to_string(n) + "]", "must be a key block in [0, " + std::to_string(r.numKBlocks) + ") (got " + std::to_string(c) + ")");
        if (P < -1 || (P >= 0 && (uint64_t)bo + ((uint64_t)P + 1) * tileWords > bits.length))
          fail("INVALID_ARGUMENT", f + ".partialIdx[" + std::to_string(n) + "]",
               "must be -1 or a bit tile inside bits (tile " + std::to_string(P) + " of " + num(tileWords) + " words from offset " + std::to_string(bo) +
                   ", length " + num(bits.length) + ")");
      }
    }
  }
  if (r.hasTopk && r.kernel.kind != kSimt) fail("INVALID_ARGUMENT", "kernel", "top-k heads run on the CUDA-core kernel (kernel 0) only");
  return r;
}

}  // namespace sparse
