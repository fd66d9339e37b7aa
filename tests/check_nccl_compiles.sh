#!/usr/bin/env bash
# The NCCL path of distributed/communicator.cpp (USE_C10D_NCCL: ProcessGroupNCCL, GPU binding,
# staging through the GPU) compiles against this LibTorch's c10d headers and the CUDA toolkit's
# nccl.h. A CPU LibTorch lacks one generated CUDA header, which is supplied here. Exits 77 (ctest:
# skipped) when the toolkit or the headers are missing.
#   check_nccl_compiles.sh CXX SOURCE_DIR "TORCH_INCLUDE_DIRS;..."
set -euo pipefail
cxx=$1 src=$2
IFS=';' read -r -a torch_dirs <<<"$3"
cuda=${CUDA_HOME:-/usr/local/cuda}
includes=()
found=0
for d in "${torch_dirs[@]}"; do
  d=$(realpath -m "$d")
  # The compiler's own system folders stay where they are (an -isystem would break #include_next).
  [[ $d != /usr/include && $d != /usr/local/include ]] && includes+=(-isystem "$d")
  [[ -f $d/torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp ]] && found=1
done
if [[ ! -f $cuda/include/nccl.h || ! -f $cuda/include/cuda_runtime.h || $found == 0 ]]; then
  echo "skipped: needs $cuda/include/nccl.h, cuda_runtime.h and LibTorch's ProcessGroupNCCL.hpp"
  exit 77
fi
shim=$(mktemp -d)
trap 'rm -rf "$shim"' EXIT
mkdir -p "$shim/c10/cuda/impl"
printf '#pragma once\n#define C10_CUDA_BUILD_SHARED_LIBS\n' >"$shim/c10/cuda/impl/cuda_cmake_macros.h"
"$cxx" -std=gnu++17 -fsyntax-only -Wall -Wextra -Wno-unused-parameter -Werror=return-type \
  -DUSE_DISTRIBUTED -DUSE_C10D_GLOO -DUSE_C10D_NCCL -D_GLIBCXX_USE_CXX11_ABI=1 \
  -I"$src" "${includes[@]}" -isystem "$shim" -isystem "$cuda/include" "$src/distributed/communicator.cpp"
echo "the NCCL path of distributed/communicator.cpp compiles"
