#!/usr/bin/env bash
# Installs what is missing, builds vecrl (Release, build/) and runs the whole test suite with ctest.
# Exits non-zero on any failure. The tests read ../shared/data relative to the repository root.
#
#   scripts/test.sh              the CI suite: build/, ctest, then each fuzzer briefly
#   scripts/test.sh --sanitize   the same suite built with AddressSanitizer + UndefinedBehaviorSanitizer
#                                into build-sanitize/ (about twice the build time; no fuzzers, they
#                                are sanitized already). Any report fails the test that produced it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
sanitize=0
for arg in "$@"; do
  case $arg in
    --sanitize) sanitize=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "error: unknown argument '$arg' (expected --sanitize)"; exit 2 ;;
  esac
done
vecrl_phase packages
vecrl_install_packages
cmake_args=()
if ((sanitize)); then
  export VECRL_BUILD_DIR="$VECRL_ROOT/build-sanitize"
  cmake_args=(-DVECRL_SANITIZE=ON)
  # Leak reports are suppressed only for third-party libraries' own caches (scripts/lsan.supp).
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=0"
  export LSAN_OPTIONS="suppressions=$VECRL_ROOT/scripts/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fi
vecrl_phase configure
vecrl_configure "${cmake_args[@]}"
vecrl_phase build
vecrl_compile
[[ -d "$VECRL_ROOT/../shared/data" ]] || { echo "error: ../shared/data is missing beside the repository"; exit 1; }
cd "${VECRL_BUILD_DIR:-$VECRL_ROOT/build}"
vecrl_phase tests
ctest --output-on-failure -j "$(nproc)" --timeout 1200
# The fuzzers, briefly (a few seconds per target, after their build); VECRL_FUZZ_SECONDS=0 skips.
if ((!sanitize)) && (( ${VECRL_FUZZ_SECONDS:-5} > 0 )); then
  vecrl_phase fuzzers
  "$VECRL_ROOT/scripts/fuzz.sh" "${VECRL_FUZZ_SECONDS:-5}"
fi
vecrl_phases_done
