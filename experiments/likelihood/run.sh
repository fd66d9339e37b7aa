#!/usr/bin/env bash
# Experiment 4: log-prob vs prob vs exact-match rewards (and JEPO) on reference answers of 2, 8 and 24
# words, seeds 1-3 (12 runs of 100 steps; held-out evaluation at steps 0, 50, 100).
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
start_experiment likelihood
[[ -f "$OUT/data/eval.jsonl" ]] || python3 experiments/likelihood/make_data.py "$VECRL" "$OUT/data"
declare -A arm=(
  [logprob]=""
  [prob]="rewards.0.dim_weights=[logprob=0,prob=1]"
  [exact]="rewards.0.weight=0 rewards.0.loss_coef=0 rewards.1.weight=1"
  [jepo]="advantage.type=jepo advantage.dimension=answer/logprob"
)
for seed in $SEED_LIST; do
  for name in logprob prob exact jepo; do
    # shellcheck disable=SC2086
    add_run "$name-s$seed" experiments/likelihood/base.yaml run.seed="$seed" data.path="$OUT/data/train.jsonl" \
      eval.path="$OUT/data/eval.jsonl" ${arm[$name]}
  done
done
finish_experiment
