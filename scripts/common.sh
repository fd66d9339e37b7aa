# Shared by scripts/quickstart.sh and scripts/test.sh: install Debian packages, configure, build.
# shellcheck shell=bash

VECRL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Build and runtime dependencies (Debian 12). libopenblas0-openmp, not the pthread variant: with
# --no-install-recommends LibTorch would otherwise get the reference BLAS (5-10x slower), and the
# pthread OpenBLAS oversubscribes the cores alongside LibTorch's OpenMP (toolchain.md §1).
VECRL_PACKAGES=(
  g++ cmake ninja-build pkg-config ccache make
  libtorch-dev libopenblas0-openmp
  libsentencepiece-dev libyaml-cpp-dev libspdlog-dev libgtest-dev nlohmann-json3-dev libcli11-dev zlib1g-dev
  libgloo-dev   # c10d ProcessGroupGloo headers (data-parallel training on CPU)
  python3-torch # provides torchrun, used to launch multi-process runs and in the tests
  gnuplot-nox   # `vecrl plot`
  libre2-dev    # linear-time regexes for reward checks (model output is untrusted text)
  python3       # runs HumanEval/MBPP programs inside the code-execution sandbox
  libcpp-httplib-dev libssl-dev libbrotli-dev  # `vecrl serve` and the HTTP judge (httplib is built with TLS)
  libpcre2-dev libutf8proc-dev  # tokenizer.json pre-tokenizer patterns (look-ahead, Unicode classes) and NFC
)

vecrl_install_packages() {
  local missing=()
  for p in "${VECRL_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "== installing missing Debian packages: ${missing[*]}"
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
  fi
  # If another BLAS (e.g. the pthread OpenBLAS) took over libblas.so.3, point it at the OpenMP one.
  local openmp_blas=/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3
  if [[ -e $openmp_blas ]] && command -v update-alternatives >/dev/null; then
    local current
    current=$(update-alternatives --query libblas.so.3-x86_64-linux-gnu 2>/dev/null | awk '/^Value:/{print $2}')
    if [[ -n $current && $current != "$openmp_blas" ]]; then
      local sudo=""
      [[ $(id -u) -ne 0 ]] && sudo="sudo"
      $sudo update-alternatives --set libblas.so.3-x86_64-linux-gnu "$openmp_blas"
    fi
  fi
}

# vecrl_configure [extra cmake args...]: Release configuration of $VECRL_BUILD_DIR (default build/;
# unity batches, ccache when present).
vecrl_configure() {
  export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
  cmake -S "$VECRL_ROOT" -B "${VECRL_BUILD_DIR:-$VECRL_ROOT/build}" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
}

# vecrl_compile [target...]: builds the targets (all of them when none is named) on every core.
vecrl_compile() {
  local targets=()
  for t in "$@"; do targets+=(--target "$t"); done
  cmake --build "${VECRL_BUILD_DIR:-$VECRL_ROOT/build}" -j "$(nproc)" "${targets[@]}"
}

# vecrl_build [extra cmake args...]: configure, then build everything.
vecrl_build() {
  vecrl_configure "$@"
  vecrl_compile
}

# Phases with their wall-clock time: vecrl_phase NAME starts one (ending the previous one),
# vecrl_phases_done ends the last and prints them all.
VECRL_PHASE_REPORT=()
VECRL_PHASE_NAME=""
vecrl_phase() {
  local now
  now=$(date +%s)
  if [[ -n $VECRL_PHASE_NAME ]]; then
    local took=$((now - VECRL_PHASE_START))
    VECRL_PHASE_REPORT+=("$(printf '%-10s %4d s' "$VECRL_PHASE_NAME" "$took")")
    echo "== $VECRL_PHASE_NAME took ${took} s"
  fi
  VECRL_PHASE_NAME=$1
  VECRL_PHASE_START=$now
  [[ -n $VECRL_PHASE_NAME ]] && echo "== $VECRL_PHASE_NAME"
  return 0
}
vecrl_phases_done() {
  vecrl_phase ""
  echo "== time per phase:"
  printf '   %s\n' "${VECRL_PHASE_REPORT[@]}"
}
