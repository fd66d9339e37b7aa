#!/usr/bin/env bash
# Installs what is missing, builds vecrl (Release, build/) and runs the whole test suite with ctest.
# Exits non-zero on any failure. The tests read ../shared/data relative to the repository root.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
vecrl_install_packages
start=$(date +%s)
vecrl_build
echo "== build took $(( $(date +%s) - start )) s"
[[ -d "$VECRL_ROOT/../shared/data" ]] || { echo "error: ../shared/data is missing beside the repository"; exit 1; }
cd "$VECRL_ROOT/build"
ctest --output-on-failure -j "$(nproc)" --timeout 600
# The fuzzers, briefly (a few seconds per target, after their build); VECRL_FUZZ_SECONDS=0 skips.
if (( ${VECRL_FUZZ_SECONDS:-5} > 0 )); then
  "$VECRL_ROOT/scripts/fuzz.sh" "${VECRL_FUZZ_SECONDS:-5}"
fi
