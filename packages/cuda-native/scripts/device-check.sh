#!/usr/bin/env bash
# The device check of @sparse/cuda-native (and of @sparse/webgpu when the bundle carries it), one command on a
# machine with an NVIDIA GPU and no Node install:
#
#   bash device-check.sh [--bundle DIR] [--node-xz FILE] [--quick] [--no-build] [--budget SECONDS]
#
#   --bundle DIR    the folder made by `node scripts/device-bundle.mjs` (default: this script's folder when it
#                   holds node_modules/, else ../build/device next to this script); env SPARSE_DEVICE_BUNDLE
#   --node-xz FILE  xz-compressed node binary (default: DIR/node.xz); env NODE_XZ. Only when the bundle has
#                   none is the node on PATH used.
#   --quick         no build (the carried addon), memcheck only, float32 + bf16, smaller benchmark: the fallback
#                   when a full run did not finish
#   --no-build      run the addon built on the developer machine (DIR/.../prebuilt) instead of building here
#   --budget S      the whole check's time limit (default 300 s); each step also has its own limit
#
# Each step is its own process under its own time limit (a fault that poisons the CUDA context, or a hang, costs
# that step only): probe (the addon's one child-process load test), a smoke test of every kernel under
# compute-sanitizer (memcheck, racecheck, synccheck), conformance per precision and kernel tier, the resident
# path, the benchmark, then webgpu. Results: $OUT (or /tmp/sparse-cuda-device/out) gets two files,
# device-check.json (every step and result) and logs.tar.gz (each step's log).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bundle="${SPARSE_DEVICE_BUNDLE:-}"
node_xz="${NODE_XZ:-}"
quick=0
build=1
budget=300
while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) bundle="$2"; shift 2 ;;
    --node-xz) node_xz="$2"; shift 2 ;;
    --quick) quick=1; build=0; shift ;;
    --no-build) build=0; shift ;;
    --budget) budget="$2"; shift 2 ;;
    *) echo "device-check: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -z "$bundle" ]; then
  if [ -d "$here/node_modules/@sparse" ]; then bundle="$here"; else bundle="$here/../build/device"; fi
fi
bundle="$(cd "$bundle" 2>/dev/null && pwd)" || { echo "device-check: bundle folder not found; run node scripts/device-bundle.mjs first" >&2; exit 2; }
work="${SPARSE_DEVICE_WORK:-/tmp/sparse-cuda-device}"
out="${OUT:-$work/out}"
logs="$work/logs"
parts="$work/parts"
steps="$work/steps.jsonl"
rm -rf "$logs" "$parts" "$steps"
mkdir -p "$work/bin" "$out" "$logs" "$parts"
t0=$(date +%s)
deadline=$((t0 + budget))
failed=0
gpu=1

# step NAME LIMIT_S CMD...: runs CMD with its log in $logs/NAME.log, under min(LIMIT_S, time left - 15 s).
step() {
  local name="$1" limit="$2"; shift 2
  local left=$((deadline - $(date +%s) - 15))
  if [ "$left" -lt 5 ]; then
    echo "=== $name: not run, the check is out of time"
    printf '{"name":"%s","status":"out of time"}\n' "$name" >> "$steps"
    failed=1
    return 1
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  echo; echo "=== $name (limit ${limit} s, at $(( $(date +%s) - t0 )) s)"
  local s=$(date +%s)
  timeout --kill-after=5 "$limit" "$@" > >(tee "$logs/$name.log") 2>&1
  local rc=$?
  local took=$(( $(date +%s) - s )) status=ok
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then status="timed out after ${limit} s"; elif [ "$rc" -ne 0 ]; then status="failed (exit $rc)"; fi
  printf '{"name":"%s","status":"%s","seconds":%d,"exit":%d}\n' "$name" "$status" "$took" "$rc" >> "$steps"
  [ "$status" = ok ] || failed=1
  return "$rc"
}
skip() { echo "=== $1: skipped ($2)"; printf '{"name":"%s","status":"skipped","note":"%s"}\n' "$1" "$2" >> "$steps"; }

finish() {
  echo; echo "=== summary ($(( $(date +%s) - t0 )) s)"
  "$NODE" "$bundle/node_modules/@sparse/cuda-native/scripts/device-run.mjs" merge --parts "$parts" --steps "$steps" --out "$out"
  tar -czf "$out/logs.tar.gz" -C "$work" logs
  echo "files: $out/device-check.json $out/logs.tar.gz"
  if [ "$failed" -ne 0 ]; then echo "DEVICE CHECK: FAIL"; exit 1; fi
  echo "DEVICE CHECK: PASS"
  exit 0
}

# The carried node binary, never whatever node is on PATH (it may be missing or another version).
[ -z "$node_xz" ] && [ -f "$bundle/node.xz" ] && node_xz="$bundle/node.xz"
if [ -n "$node_xz" ]; then
  [ -f "$node_xz" ] || { echo "device-check: $node_xz not found" >&2; exit 2; }
  if command -v xz >/dev/null; then xz -dc "$node_xz" > "$work/bin/node"; else
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$node_xz" "$work/bin/node"
  fi
  chmod +x "$work/bin/node"
  NODE="$work/bin/node"
else
  NODE="$(command -v node)" || { echo "device-check: no node (give --node-xz FILE)" >&2; exit 2; }
  echo "device-check: the bundle carries no node.xz; using $NODE"
fi
export PATH="$work/bin:$PATH"
echo "node $("$NODE" --version) at $NODE"

cudnat="$bundle/node_modules/@sparse/cuda-native"
export SPARSE_DEVICE_PARTS="$parts"
dr=("$NODE" "$cudnat/scripts/device-run.mjs")
step gpu-info 20 bash -c 'nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader || exit 1; [ -d /usr/local/cuda/bin ] && export PATH="$PATH:/usr/local/cuda/bin"; command -v nvcc >/dev/null && nvcc --version | tail -1; command -v compute-sanitizer || true' || gpu=0
[ -d /usr/local/cuda/bin ] && export PATH="$PATH:/usr/local/cuda/bin"

if [ "$build" = 1 ]; then
  # Only the architecture of this GPU: a quarter of the build time.
  arch="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')"
  step build 180 env SPARSE_NODE_API_HEADERS="$bundle/include/node-api" SPARSE_NODE_ADDON_API="$bundle/include/node-addon-api" SPARSE_NVCC_THREADS=4 \
    "$NODE" "$cudnat/scripts/build-native.mjs" --jobs "$(nproc 2>/dev/null || echo 4)" ${arch:+--archs "$arch"}
  [ -f "$cudnat/build/Release/sparse_cuda.node" ] || echo "device-check: the build made no addon; running the prebuilt one"
  [ -d "$cudnat/build/ptxas" ] && step ptxas 30 "$NODE" "$cudnat/scripts/check-ptxas.mjs" --require
else
  skip build "--no-build: the addon built on the developer machine"
fi
if [ ! -f "$cudnat/build/Release/sparse_cuda.node" ]; then
  export SPARSE_CUDA_NATIVE_BINARY="$cudnat/prebuilt/sparse_cuda.node"
  [ -f "$SPARSE_CUDA_NATIVE_BINARY" ] || { echo "device-check: no addon to run" >&2; failed=1; finish; }
fi

step probe 60 "${dr[@]}" probe || gpu=0
if [ "$gpu" = 0 ]; then
  skip cuda "no usable CUDA device (see the probe log): every later cuda-native step needs one"
else
  if command -v compute-sanitizer >/dev/null; then
    tools="memcheck racecheck synccheck"; [ "$quick" = 1 ] && tools="memcheck"
    for tool in $tools; do
      step "smoke-$tool" 90 compute-sanitizer --tool "$tool" --error-exitcode 9 --print-limit 20 \
        "${dr[@]}" smoke --label "$tool"
    done
  else
    step smoke 60 "${dr[@]}" smoke --label plain
    echo "device-check: compute-sanitizer not found; the smoke test ran without it"
  fi
  precisions="float32 bfloat16 float16"; [ "$quick" = 1 ] && precisions="float32 bfloat16"
  for p in $precisions; do
    tiers="mma64 mma128 mma256"; [ "$p" = float32 ] && tiers="simt"
    for t in $tiers; do step "conformance-$p-$t" 60 "${dr[@]}" conformance --precision "$p" --tier "$t"; done
  done
  step resident 120 "${dr[@]}" resident $([ "$quick" = 1 ] && echo --quick)
  step bench 120 "${dr[@]}" bench $([ "$quick" = 1 ] && echo --quick)
fi

if [ -f "$bundle/webgpu/run.sh" ]; then
  step webgpu 90 bash "$bundle/webgpu/run.sh" "$bundle" "$NODE" "$parts" $([ "$quick" = 1 ] && echo --quick)
fi
finish
