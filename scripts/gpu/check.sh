#!/usr/bin/env bash
# The GPU check, one command on a lent GPU machine (H100/H200 with a CUDA PyTorch wheel, no
# network). Prepare first on the development machine with scripts/gpu/prepare.sh, then call the
# device tool with carry [".gpu"] and `bash scripts/gpu/check.sh` (timeout_s 590). It builds
# vecrl against the wheel's LibTorch and the carried Debian libraries, then runs, each step under
# its own time limit and logged whatever the others do:
#   1. the models and trainer unit tests built against LibTorch 2.x (CPU code, new API);
#   2. RL training on the GPU: fp32, bf16, and a process group of one over NCCL;
#   3. vecrl bench train / generate / step on CUDA in bf16 (qwen3-500m shape, G = 16, 512 tokens);
#   4. an exported checkpoint loaded by HF transformers, its log-probs against `vecrl score`.
# Results land in $OUT (at most 8 files come back): build.log, tests.log, train.log, bench.log,
# hf.log, summary.txt. VECRL_GPU_STEPS="build tests train bench hf" picks steps.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
out=${OUT:-$root/gpu-out}
mkdir -p "$out"
summary=$out/summary.txt
: >"$summary"
steps=${VECRL_GPU_STEPS:-build tests train bench hf}
note() { echo "$*" | tee -a "$summary"; }
# step NAME LIMIT_S LOG CMD...: runs CMD with a time limit, appends to LOG, records the outcome.
step() {
  local name=$1 limit=$2 log=$3
  shift 3
  local start=$SECONDS
  echo "== $name: $*" >>"$log"
  timeout "$limit" "$@" >>"$log" 2>&1
  local rc=$?
  note "$name: exit $rc in $((SECONDS - start)) s"
  return $rc
}
wants() { [[ " $steps " == *" $1 "* ]]; }

prefix=$root/.gpu/prefix
[[ -d $prefix/usr ]] || { note "error: .gpu/prefix is missing (run scripts/gpu/prepare.sh and carry .gpu)"; exit 1; }
# The tests read ../shared/data beside the checkout; the carried copy stands in for it.
[[ -e $root/../shared/data ]] || ln -sfn "$root/.gpu/shared" "$root/../shared"
# The carried headers and libraries stand where Debian's /usr would (CMake finds the libraries
# through CMAKE_PREFIX_PATH; the compiler and the loader through these).
export CPLUS_INCLUDE_PATH=$prefix/usr/include:$prefix/usr/include/x86_64-linux-gnu
export LIBRARY_PATH=$prefix/usr/lib/x86_64-linux-gnu
export LD_LIBRARY_PATH=$prefix/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PKG_CONFIG_PATH=$prefix/usr/lib/x86_64-linux-gnu/pkgconfig:$prefix/usr/share/pkgconfig
export PKG_CONFIG_SYSROOT_DIR=$prefix
export CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
torch_cmake=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
note "machine: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | head -1)"
note "torch: $(python3 -c 'import torch; print(torch.__version__, "cuda", torch.version.cuda)' 2>&1)"
build=$root/build-gpu
vecrl=$build/vecrl

if wants build; then
  step configure 240 "$out/build.log" cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$torch_cmake;$prefix/usr" -DCMAKE_CUDA_COMPILER="$CUDA_HOME/bin/nvcc" || exit 1
  step build 420 "$out/build.log" cmake --build "$build" -j "$(nproc)" --target vecrl models_tests trainer_tests \
    distributed_tests || { tail -40 "$out/build.log" >>"$summary"; exit 1; }
fi

if wants tests; then
  step models_tests 240 "$out/tests.log" "$build/tests/models_tests"
  step distributed_tests 120 "$out/tests.log" "$build/tests/distributed_tests"
  step trainer_features 300 "$out/tests.log" "$build/tests/trainer_tests" --gtest_filter='TrainerFeatures.*:DeviceConfig.*'
  grep -E "^\[  (FAILED|PASSED) " "$out/tests.log" >>"$summary"
fi

runs=/tmp/vecrl-gpu-runs
quick="$root/configs/quickstart.yaml run.output_dir=$runs train.steps=10 run.threads=8"
if wants train; then
  step train_cuda_fp32 300 "$out/train.log" "$vecrl" train $quick run.name=cuda_fp32 model.device=cuda
  step train_cuda_bf16 300 "$out/train.log" "$vecrl" train $quick run.name=cuda_bf16 model.device=cuda \
    model.compute_dtype=bfloat16
  step train_cuda_nccl 300 "$out/train.log" "$vecrl" train $quick run.name=cuda_nccl model.device=cuda \
    distributed.backend=nccl train.steps=3
  grep -E "^done:|error" "$out/train.log" >>"$summary"
fi

if wants bench; then
  common="--device cuda --dtype bfloat16 --model qwen3-500m --json"
  step bench_train 300 "$out/bench.log" "$vecrl" bench train $common --batch 16 --prompt-tokens 128 \
    --response-tokens 512 --steps 3 --vs unfused
  step bench_generate 300 "$out/bench.log" "$vecrl" bench generate $common --prompts 4 --group-sizes 1,16 \
    --prompt-tokens 128 --new-tokens 512 --vs per-sample
  step bench_step 300 "$out/bench.log" "$vecrl" bench step "$root/configs/quickstart.yaml" model.device=cuda \
    model.compute_dtype=bfloat16 run.output_dir=$runs --steps 3 --json
  grep -E '^\{' "$out/bench.log" >>"$summary"
fi

if wants hf; then
  final=$runs/cuda_fp32/final
  [[ -d $final ]] || step export_run 300 "$out/hf.log" "$vecrl" train $quick run.name=cuda_fp32 model.device=cpu
  step hf_transformers 240 "$out/hf.log" python3 "$root/scripts/gpu/hf_check.py" "$vecrl" "$final"
  tail -5 "$out/hf.log" >>"$summary"
fi
note "done"
