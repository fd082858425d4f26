#!/usr/bin/env bash
# GPU checks in one place. A developer machine without a GPU prepares a bundle; the GPU machine runs it.
#
#   bash tools/device-check.sh bundle        # build core, conformance, cuda-native and webgpu, then pack
#                                            # packages/cuda-native/build/device (node.xz, built packages,
#                                            # fixtures, Dawn, the Vulkan loader and EGL libraries)
#   # copy packages/cuda-native/build/device to the GPU machine, then there (about 1-3 minutes, 5 at most):
#   #   bash build/device/device-check.sh            (add --quick if a full run did not finish)
#   # results: $OUT/device-check.json and $OUT/logs.tar.gz
#
#   bash tools/device-check.sh dry-run       # the bundle's check here, without a GPU and without building: every
#                                            # step up to the first that needs a GPU, in its own process
#
#   bash tools/device-check.sh webgpu        # on a machine with a GPU and Node: webgpu conformance + GFLOP/s and
#                                            # η vs our dense WGSL kernel (N=16384, L=R=256) on the real adapter
set -euo pipefail
cd "$(dirname "$0")/.."
pnpm() { npx -y pnpm@10.34.9 "$@"; }
case "${1:-}" in
  bundle | cuda-bundle)
    pnpm --filter @sparse/core --filter @sparse/conformance --filter @sparse/cuda-native --filter @sparse/webgpu build
    node packages/cuda-native/scripts/device-bundle.mjs
    echo "now copy packages/cuda-native/build/device to the GPU machine and run: bash build/device/device-check.sh"
    ;;
  dry-run)
    shift
    [ -f packages/cuda-native/build/device/device-check.sh ] || node packages/cuda-native/scripts/device-bundle.mjs
    OUT="${OUT:-/tmp/sparse-cuda-device/out}" bash packages/cuda-native/build/device/device-check.sh --no-build "$@"
    ;;
  webgpu)
    shift
    pnpm --filter @sparse/core --filter @sparse/conformance --filter @sparse/webgpu build
    node packages/webgpu/bench/device-check.mjs "$@"
    ;;
  *)
    sed -n '2,17p' "$0"
    exit 2
    ;;
esac
