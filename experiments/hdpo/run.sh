#!/usr/bin/env bash
# Experiment 5: HDPO vs coupled GRPO on a calculator task whose medium questions a direct answer
# gets right only part of the time. Data, one SFT warm-start (shared by all runs), then both methods
# over seeds 1-3 (6 runs of 80 steps, greedy evaluation every 20 steps).
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
start_experiment hdpo
python3 experiments/hdpo/make_data.py "$OUT/data"
if [[ ! -d "$OUT/sft/final" ]]; then
  echo "SFT warm-start ($(date +%T)), log: $OUT/sft.log"
  # shellcheck disable=SC2086
  "$VECRL" sft experiments/hdpo/sft.yaml run.output_dir="$OUT" data.path="$OUT/data/sft.jsonl" \
    ${SFT_OVERRIDES:-} > "$OUT/sft.log" 2>&1 || { tail -20 "$OUT/sft.log"; exit 1; }
fi
for seed in $SEED_LIST; do
  for method in hdpo grpo; do
    add_run "$method-s$seed" "experiments/hdpo/$method.yaml" run.seed="$seed" model.path="$OUT/sft/final" \
      data.path="$OUT/data/rl.jsonl" eval.path="$OUT/data/eval.jsonl"
  done
done
finish_experiment
