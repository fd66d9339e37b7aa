#!/usr/bin/env bash
# Run on the development machine (Debian 12, network to Debian's archive) before a GPU check:
# fills .gpu/ (git-ignored) with what the GPU machine lacks and cannot fetch — the Debian libraries
# vecrl builds against (headers and shared objects, unpacked into .gpu/prefix; LibTorch is not
# among them: the GPU machine's CUDA PyTorch wheel provides it) and the shared data the checks
# read (stories260K, the Qwen3 tokenizer). Then call the device tool with carry [".gpu"] and the
# command `bash scripts/gpu/check.sh` (see that script).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
gpu=$root/.gpu
packages=(
  libyaml-cpp-dev libyaml-cpp0.7 libspdlog-dev libspdlog1.10 libfmt-dev libfmt9 nlohmann-json3-dev libcli11-dev
  libsentencepiece-dev libsentencepiece0 libre2-dev libre2-9 libpcre2-dev libpcre2-8-0 libpcre2-16-0 libpcre2-32-0
  libpcre2-posix3 libutf8proc-dev libutf8proc2 libcpp-httplib-dev libcpp-httplib0.11 libbrotli-dev libbrotli1
  libssl-dev libssl3 zlib1g-dev libgtest-dev
)
rm -rf "$gpu/debs" "$gpu/prefix"
mkdir -p "$gpu/debs" "$gpu/prefix"
sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
$sudo apt-get update -qq
(cd "$gpu/debs" && apt-get download -qq "${packages[@]}" 2>&1 | grep -v "unsandboxed" || true)
for deb in "$gpu"/debs/*.deb; do dpkg -x "$deb" "$gpu/prefix"; done
rm -rf "$gpu/debs" "$gpu/prefix/usr/share/doc" "$gpu/prefix/usr/share/man"
# Shared objects are what the build links; static archives (but GoogleTest's) only take room.
find "$gpu/prefix" -name '*.a' ! -name 'libgtest*' -delete
# pkg-config files name /usr; check.sh points PKG_CONFIG_SYSROOT_DIR at the prefix.
data=$root/../shared/data
mkdir -p "$gpu/shared/data/models" "$gpu/shared/data/tokenizers"
cp -r "$data/models/stories260K" "$gpu/shared/data/models/"
cp -r "$data/tokenizers/qwen3" "$gpu/shared/data/tokenizers/"
size=$(du -sm "$gpu" | cut -f1)
echo "== .gpu/ holds ${size} MiB (the device tool carries at most 64 MiB with the working tree)"
(( size < 56 )) || { echo "error: .gpu/ is too large to carry"; exit 1; }
