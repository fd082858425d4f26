#!/usr/bin/env bash
# GPU checks in one place. This machine (and CI) has no GPU; a session that is lent one runs these.
#
#   bash tools/device-check.sh cuda-bundle   # here: build core, conformance and cuda-native, then pack
#                                            # packages/cuda-native/build/device (node.xz, built packages, fixtures)
#   # then, through the device tool, one call that builds the addon there, runs conformance and the benchmark:
#   #   run(command="bash packages/cuda-native/build/device/device-check.sh",
#   #       carry=["packages/cuda-native/build/device"], timeout_s=540)
#
#   bash tools/device-check.sh webgpu        # on a machine with a GPU and Node: conformance + GFLOP/s and η vs our
#                                            # dense WGSL kernel (N=16384, L=R=256) on the real adapter
set -euo pipefail
cd "$(dirname "$0")/.."
pnpm() { npx -y pnpm@10.34.9 "$@"; }
case "${1:-}" in
  cuda-bundle)
    pnpm --filter @sparse/core --filter @sparse/conformance --filter @sparse/cuda-native build
    node packages/cuda-native/scripts/device-bundle.mjs
    echo "now run: bash packages/cuda-native/build/device/device-check.sh on the GPU machine (carry packages/cuda-native/build/device)"
    ;;
  webgpu)
    shift
    pnpm --filter @sparse/core --filter @sparse/conformance --filter @sparse/webgpu build
    node packages/webgpu/bench/device-check.mjs "$@"
    ;;
  *)
    sed -n '2,12p' "$0"
    exit 2
    ;;
esac
