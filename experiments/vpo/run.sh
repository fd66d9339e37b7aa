#!/usr/bin/env bash
# Experiment 3: VPO vs GRPO on three-answer responses, seeds 1-3 (6 runs of 100 steps).
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
start_experiment vpo
for seed in $SEED_LIST; do
  add_run "vpo-s$seed" experiments/vpo/base.yaml run.seed="$seed" advantage.type=vpo
  add_run "grpo-s$seed" experiments/vpo/base.yaml run.seed="$seed" advantage.type=grpo advantage.answers=mean
done
finish_experiment
