#!/usr/bin/env bash
# The webgpu part of the device check (copied into the bundle as webgpu/run.sh): unpacks Dawn, finds the NVIDIA
# Vulkan driver, uses the carried Vulkan loader and EGL libraries when the machine has none, and runs
# @sparse/webgpu's device check. Without an NVIDIA Vulkan driver it says why and skips (exit 0).
#
#   bash run.sh BUNDLE NODE PARTS_DIR [--quick]
set -uo pipefail
bundle="$1" node="$2" parts="$3"; shift 3
wg="$bundle/webgpu"
note() { echo "webgpu: $*"; }
skipped() { note "skipped: $1"; mkdir -p "$parts"; printf '{"skipped":"%s"}\n' "$1" > "$parts/webgpu.json"; exit 0; }

dawn="$bundle/node_modules/webgpu/dist/linux-x64/dawn.node"
if [ ! -f "$dawn" ]; then
  mkdir -p "$(dirname "$dawn")"
  if command -v xz >/dev/null; then xz -dc "$wg/dawn.node.xz" > "$dawn"; else
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$wg/dawn.node.xz" "$dawn"
  fi
fi

# The Vulkan loader and EGL: the machine's own, else the carried ones.
libdir="$wg/sysroot/usr/lib/x86_64-linux-gnu"
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 '; then
  [ -f "$libdir/libvulkan.so.1" ] || skipped "no Vulkan loader (libvulkan.so.1) here and none carried in the bundle"
  export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  note "using the carried Vulkan loader and EGL libraries ($libdir)"
fi

# The NVIDIA ICD manifest, where the driver installs it; the loader may not look in every one of these places.
if [ -z "${VK_ICD_FILENAMES:-}" ]; then
  for f in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.x86_64.json \
    /etc/vulkan/icd.d/nvidia_icd.x86_64.json /usr/local/share/vulkan/icd.d/nvidia_icd.json; do
    [ -f "$f" ] && { export VK_ICD_FILENAMES="$f" VK_DRIVER_FILES="$f"; break; }
  done
fi
[ -n "${VK_ICD_FILENAMES:-}" ] || skipped "no NVIDIA Vulkan driver manifest (nvidia_icd.json in /usr/share/vulkan/icd.d or /etc/vulkan/icd.d); the driver was installed without its Vulkan part"
lib="$(sed -n 's/.*"library_path"[^"]*"\([^"]*\)".*/\1/p' "$VK_ICD_FILENAMES" | head -1)"
if [ -n "$lib" ] && [ "${lib#/}" = "$lib" ] && ! ldconfig -p 2>/dev/null | grep -q "$lib"; then
  skipped "the NVIDIA Vulkan driver library $lib named by $VK_ICD_FILENAMES is not installed"
fi
note "Vulkan driver manifest $VK_ICD_FILENAMES"

cd "$bundle/node_modules/@sparse/webgpu" && exec "$node" bench/device-check.mjs --json "$parts/webgpu.json" "$@"
