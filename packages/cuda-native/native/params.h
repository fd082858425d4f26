// Shared between the host code (g++) and the kernels (nvcc): plain data only.
#pragma once
#include <cstdint>

// The head-table layout (HEAD_ROW_PTR … HEAD_WORDS, MODE_STATIC / MODE_TOPK / MODE_CLUSTER): generated from
// @sparse/core's definition by scripts/head-table.mjs before every compile (scripts/build-native.mjs).
#include "head_table.h"

namespace sparse {

enum Precision : int { kFloat32 = 0, kBFloat16 = 1, kFloat16 = 2 };

// The fused kernels: a CUDA-core kernel for any storage and head dims up to 256 (float32 storage and the
// top-k pattern always use it) and tensor-core kernels (mma.sync m16n8k16, float32 accumulation) for
// bf16/f16 storage, specialised on the padded head-dim tier.
enum KernelKind : int { kSimt = 0, kMma64 = 1, kMma128 = 2, kMma256 = 3 };

constexpr int kMaxHeadDim = 256;

struct KernelConfig {
  int kind;
  int blockQ;
  int blockK;
  int threads;
};

struct AttnParams {
  const void* q;
  const void* k;
  const void* v;
  float* out;
  float* lse;  // may be null
  // Strides in elements (batch, head, sequence), for bhsd or bshd alike.
  long long qB, qH, qS, kB, kH, kS, vB, vH, vS, oB, oH, oS;
  int batch, headsQ, headsKv, group, seqQ, seqK, headDim, headDimV;
  double scale;  // exact for the float64 top-k scores; the float32 softmax rounds it once
  // Concatenated block masks and the per-head descriptors that index them.
  const int* rowPtr;
  const int* colIdx;
  const int* partialIdx;
  const uint32_t* bits;
  const int* heads;  // headsQ * HEAD_WORDS
  int numQBlocks, numKBlocks, wordsPerRow, blockQ, blockK;
  // Content-based inputs, per (b, h): top-k threshold and tie cut per query row; cluster labels per token.
  const double* topkThreshold;  // [B*Hq*Sq]
  const int* topkTieCut;        // [B*Hq*Sq]
  const int* labelsQ;           // [B*Hq*Sq]
  const int* labelsK;           // [B*Hq*Sk] (labels of the kv head's keys under query head h's centroids)
  const double* centroids;      // unit-normalised, concatenated per head (descriptor HEAD_CENTROIDS)
  int bhOffset;                 // first flattened (b*Hq + h) of this launch
};

}  // namespace sparse
