#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ with clang (AddressSanitizer + UndefinedBehaviorSanitizer)
# and runs each for a bounded time:
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET ...]     (default 60 s, all targets)
# Corpora grow in build-fuzz/corpus/<target> (seeded from fuzz/seeds/<target>); a crash leaves its
# input in build-fuzz/crashes/<target>/ and makes the script exit non-zero: turn it into a
# regression test. Run from the repository root, with ../shared/data beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
VECRL_PACKAGES+=(clang libclang-rt-14-dev)
vecrl_install_packages

SECONDS_PER_TARGET="${1:-60}"
shift || true
ALL_TARGETS=(safetensors config dataset tokenizer_json bpe_encode math_answer)
if (($#)); then TARGETS=("$@"); else TARGETS=("${ALL_TARGETS[@]}"); fi
OUT=build-fuzz
mkdir -p "$OUT"

CXX="clang++ -std=c++17 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -I."
TORCH_FLAGS="-isystem /usr/include/torch/csrc/api/include -D_GLIBCXX_USE_CXX11_ABI=1"
TORCH_LIBS="-ltorch -ltorch_cpu -lc10"

sources_of() {
  case "$1" in
    safetensors) echo "core/safetensors.cpp core/json_input.cpp core/files.cpp" ;;
    config) echo "core/config.cpp" ;;
    dataset) echo "core/jsonl.cpp core/json_input.cpp core/files.cpp" ;;
    tokenizer_json|bpe_encode) echo "models/tokenizer.cpp models/tokenizer_files.cpp models/bpe_tokenizer.cpp models/sentencepiece_tokenizer.cpp core/json_input.cpp core/files.cpp" ;;
    math_answer) echo "rewards/verifiable/math_answer.cpp rewards/verifiable/math_equivalence.cpp rewards/verifiable/math_expr.cpp rewards/verifiable/math_expr_parse.cpp rewards/verifiable/text_match.cpp" ;;
    *) echo "unknown fuzz target '$1' (known: ${ALL_TARGETS[*]})" >&2; exit 2 ;;
  esac
}

libs_of() {
  case "$1" in
    safetensors) echo "$TORCH_LIBS" ;;
    config) echo "-lyaml-cpp" ;;
    dataset) echo "-lz" ;;
    tokenizer_json|bpe_encode) echo "-lpcre2-8 -lutf8proc -ldl -lspdlog -lfmt" ;;
    *) echo "" ;;
  esac
}

build_target() {
  local target=$1 flags=""
  [[ "$target" == safetensors ]] && flags="$TORCH_FLAGS"
  # shellcheck disable=SC2046
  $CXX $flags "fuzz/${target}_fuzz.cpp" $(sources_of "$target") -o "$OUT/${target}_fuzz" $(libs_of "$target") \
    >"$OUT/${target}.build.log" 2>&1
}

# Build every target first, as many at once as there are cores (each is one clang process).
echo "== building ${TARGETS[*]} ($(nproc) at a time)"
declare -A build_pid
for target in "${TARGETS[@]}"; do
  while (( $(jobs -rp | wc -l) >= $(nproc) )); do wait -n || true; done
  build_target "$target" &
  build_pid[$target]=$!
done
for target in "${TARGETS[@]}"; do
  if ! wait "${build_pid[$target]}"; then
    echo "!! $target: build failed"
    cat "$OUT/${target}.build.log"
    exit 1
  fi
done

status=0
for target in "${TARGETS[@]}"; do
  binary="$OUT/${target}_fuzz"
  corpus="$OUT/corpus/$target"
  crashes="$OUT/crashes/$target"
  mkdir -p "$corpus" "$crashes"
  [[ -d "fuzz/seeds/$target" ]] && cp -n fuzz/seeds/"$target"/* "$corpus"/ 2>/dev/null || true
  echo "== fuzzing $target for ${SECONDS_PER_TARGET}s"
  log="$OUT/${target}.log"
  if "$binary" "$corpus" -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -timeout=10 -rss_limit_mb=4096 \
       -artifact_prefix="$crashes/" -print_final_stats=1 >"$log" 2>&1; then
    grep -E "^#[0-9]+.*DONE|stat::number_of_executed_units|cov:" "$log" | tail -2
  else
    echo "!! $target: crash or error; input saved in $crashes/ (log: $log)"
    tail -30 "$log"
    status=1
  fi
done
exit $status
