#!/usr/bin/env bash
# System packages the test suites need beyond Node.js (run as root, e.g. in CI):
#  - chromium + libvulkan1: its SwiftShader Vulkan ICD (Dawn opens libvulkan.so.1) is the software WebGPU adapter for Dawn (the `webgpu` npm package) and the
#    headless browser that runs the browser test pages through playwright-core.
# Idempotent; skips what is already installed. Nothing here downloads outside Debian's package archive.
set -euo pipefail
need=()
for pkg in chromium libvulkan1; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -eq 0 ]; then
  echo "setup-system: all system packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup-system: missing ${need[*]}; run this script as root (or: sudo apt-get install ${need[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}"
echo "setup-system: installed ${need[*]}"
