#!/usr/bin/env bash
# The device check of @sparse/cuda-native, one command on a machine with an NVIDIA GPU and no Node install:
# unpacks the carried node binary, builds the addon with the machine's nvcc, checks ptxas for spills, runs the
# whole conformance suite on this backend and the Hopper benchmark, and prints a summary.
#
#   bash device-check.sh [--bundle DIR] [--node-xz FILE] [--quick] [--no-build]
#
#   --bundle DIR    the folder made by `node scripts/device-bundle.mjs` (default: this script's folder when it
#                   holds node_modules/, else ../build/device next to this script); env SPARSE_DEVICE_BUNDLE
#   --node-xz FILE  xz-compressed node binary (default: DIR/node.xz); env NODE_XZ. A node on PATH is used
#                   when neither is given.
#   --quick         float32 conformance, smaller benchmark (N=8192)
#   --no-build      use the addon built on the developer machine (DIR/.../prebuilt) instead of building here
# Results: stdout, and files in $OUT (or /tmp/sparse-cuda-device/out): device-check.json, conformance-*.txt,
# build.log, ptxas.txt.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bundle="${SPARSE_DEVICE_BUNDLE:-}"
node_xz="${NODE_XZ:-}"
quick=""
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) bundle="$2"; shift 2 ;;
    --node-xz) node_xz="$2"; shift 2 ;;
    --quick) quick="--quick"; shift ;;
    --no-build) build=0; shift ;;
    *) echo "device-check: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -z "$bundle" ]; then
  if [ -d "$here/node_modules/@sparse" ]; then bundle="$here"; else bundle="$here/../build/device"; fi
fi
bundle="$(cd "$bundle" 2>/dev/null && pwd)" || { echo "device-check: bundle folder not found; run node scripts/device-bundle.mjs first" >&2; exit 2; }
work=/tmp/sparse-cuda-device
out="${OUT:-$work/out}"
mkdir -p "$work/bin" "$out"
t0=$(date +%s)
step() { echo; echo "=== $* ($(( $(date +%s) - t0 )) s)"; }

step "node"
[ -z "$node_xz" ] && [ -f "$bundle/node.xz" ] && ! command -v node >/dev/null && node_xz="$bundle/node.xz"
if [ -n "$node_xz" ]; then
  [ -f "$node_xz" ] || { echo "device-check: $node_xz not found" >&2; exit 2; }
  if command -v xz >/dev/null; then
    xz -dc "$node_xz" > "$work/bin/node"
  else
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$node_xz" "$work/bin/node"
  fi
  chmod +x "$work/bin/node"
  export PATH="$work/bin:$PATH"
fi
command -v node >/dev/null || { echo "device-check: no node (give --node-xz FILE)" >&2; exit 2; }
echo "node $(node --version) at $(command -v node)"

step "GPU"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader
[ -d /usr/local/cuda/bin ] && export PATH="$PATH:/usr/local/cuda/bin"
command -v nvcc >/dev/null && nvcc --version | tail -1

rm -rf "$work/node_modules"
cp -r "$bundle/node_modules" "$work/"
pkg="$work/node_modules/@sparse/cuda-native"
build_status="skipped (--no-build)"
if [ "$build" = 1 ]; then
  step "build the addon"
  if SPARSE_NODE_API_HEADERS="$bundle/include/node-api" SPARSE_NODE_ADDON_API="$bundle/include/node-addon-api" SPARSE_NVCC_THREADS=4 \
    node "$pkg/scripts/build-native.mjs" --jobs "$(nproc 2>/dev/null || echo 4)" 2>&1 | tee "$out/build.log" && [ -f "$pkg/build/Release/sparse_cuda.node" ]; then
    build_status="built here"
  else
    build_status="BUILD FAILED here (see build.log); ran the prebuilt addon"
  fi
fi
if [ ! -f "$pkg/build/Release/sparse_cuda.node" ]; then
  export SPARSE_CUDA_NATIVE_BINARY="$pkg/prebuilt/sparse_cuda.node"
  [ -f "$SPARSE_CUDA_NATIVE_BINARY" ] || { echo "device-check: no addon to run" >&2; exit 1; }
fi

ptxas_status="not checked"
if [ -d "$pkg/build/ptxas" ]; then
  step "ptxas: register spills"
  if node "$pkg/scripts/check-ptxas.mjs" --require 2>&1 | tee "$out/ptxas.txt"; then ptxas_status="no spills"; else ptxas_status="SPILLS (see ptxas.txt)"; fi
fi

step "conformance + benchmark"
SPARSE_CUDA_REQUIRE_DEVICE=1 node "$pkg/scripts/device-run.mjs" $quick --out "$out" 2>&1 | tee "$out/device-run.log"
run_rc=${PIPESTATUS[0]}

step "summary"
echo "addon: $build_status; ptxas: $ptxas_status"
grep -E '^(SUMMARY|HEADLINE)' "$out/device-run.log" || echo "device-run did not finish (exit $run_rc)"
echo "files: $out"
if [ "$run_rc" -ne 0 ] || [[ "$build_status" == BUILD* ]] || [[ "$ptxas_status" == SPILLS* ]]; then
  echo "DEVICE CHECK: FAIL"
  exit 1
fi
echo "DEVICE CHECK: PASS"
