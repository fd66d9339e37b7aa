#!/usr/bin/env bash
# Experiment 1: DVAO vs RC vs AC vs GDPO on two conflicting objectives, weights w in {0.2, 0.5, 0.8},
# seeds 1-3 (36 runs of 100 steps). SEEDS="4" bash experiments/pareto/run.sh runs another seed.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
start_experiment pareto
for seed in $SEED_LIST; do
  for w in 0.2 0.5 0.8; do
    for method in dvao rc ac gdpo; do
      add_run "$method-w$w-s$seed" experiments/pareto/base.yaml run.seed="$seed" advantage.type="$method" \
        rewards.0.weight="$w" rewards.1.weight="$(python3 -c "print(round(1 - $w, 6))")"
    done
  done
done
finish_experiment
