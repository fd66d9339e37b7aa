#!/usr/bin/env bash
# The math grader's precision and recall on the labelled table (tests/rewards/math_grader_pairs.h),
# for the working tree and for an earlier commit's grader (default 5f09ff1, before the expression
# parser): bash scripts/math_grader_report.sh [commit]
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
shared=${VECRL_SHARED_DATA:-$repo/../shared/data}
before=${1:-5f09ff1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

build() {  # build <source root> <output>
  local root=$1 sources=()
  for f in math_answer math_equivalence math_expr math_expr_parse text_match; do
    [[ -f $root/rewards/verifiable/$f.cpp ]] && sources+=("$root/rewards/verifiable/$f.cpp")
  done
  g++ -std=c++17 -O1 -I"$root" -I"$repo" "$repo/tests/rewards/math_grader_report.cpp" "${sources[@]}" -o "$2"
}

mkdir -p "$work/before"
git archive "$before" rewards/verifiable | tar -x -C "$work/before"
build "$work/before" "$work/report_before"
build "$repo" "$work/report_now"
echo "== grader at $before"
"$work/report_before" "$repo" "$shared"
echo
echo "== grader in the working tree"
"$work/report_now" "$repo" "$shared"
