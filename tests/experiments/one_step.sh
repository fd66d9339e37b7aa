#!/usr/bin/env bash
# Every experiment (experiments/*/run.sh) end to end at one training step: its data, every arm's
# config for one seed, and its summary script on what came out. The experiments themselves are
# not CI jobs; this keeps their configs and scripts from rotting.
# usage: one_step.sh VECRL_BINARY [EXPERIMENT...]   (default: every folder with a run.sh)
set -euo pipefail
export VECRL="$1"
shift
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
names=("$@")
if ((${#names[@]} == 0)); then
  for script in "$repo"/experiments/*/run.sh; do names+=("$(basename "$(dirname "$script")")"); done
fi
export SEEDS=1
export RUN_OVERRIDES="train.steps=1 rollout.prompts_per_step=2 rollout.group_size=4 train.mini_batches=1"
export SFT_OVERRIDES="train.steps=2"
for name in "${names[@]}"; do
  echo "== $name"
  start=$(date +%s)
  if ! OUT="$work/$name" bash "$repo/experiments/$name/run.sh" > "$work/$name.out" 2>&1; then
    cat "$work/$name.out"
    for log in "$work/$name"/*.log; do [[ -f "$log" ]] && { echo "--- $log"; tail -15 "$log"; }; done
    echo "FAILED: experiment $name"
    exit 1
  fi
  tail -4 "$work/$name.out"
  for file in summary.json; do
    [[ -s "$work/$name/$file" ]] || { echo "FAILED: $name wrote no $file"; exit 1; }
  done
  ls "$work/$name"/*.svg > /dev/null || { echo "FAILED: $name drew no chart"; exit 1; }
  echo "ok ($(( $(date +%s) - start )) s)"
done
