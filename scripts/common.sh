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

# vecrl_build [extra cmake args...]: Release build into $VECRL_BUILD_DIR (default build/; precompiled
# headers, ccache when present).
vecrl_build() {
  local jobs
  jobs=$(nproc)
  export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
  cmake -S "$VECRL_ROOT" -B "${VECRL_BUILD_DIR:-$VECRL_ROOT/build}" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
  cmake --build "${VECRL_BUILD_DIR:-$VECRL_ROOT/build}" -j "$jobs"
}
