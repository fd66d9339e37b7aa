#!/usr/bin/env bash
# Experiment 2: GDPO vs GRPO with three binary rewards, seeds 1-3 (6 runs of 60 steps).
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
start_experiment gdpo
for seed in $SEED_LIST; do
  for method in grpo gdpo; do
    add_run "$method-s$seed" experiments/gdpo/base.yaml run.seed="$seed" advantage.type="$method"
  done
done
finish_experiment
