#!/usr/bin/env bash
# HDPO's claim in miniature, on CPU: a tiny model that over-uses its calculator learns to call it
# only when it needs to — under HDPO (decoupled accuracy and efficiency channels) far more than
# under GRPO on the coupled reward accuracy + 0.15 x efficiency — without losing accuracy.
#   1. synthetic data: "Q: 3+4=?" (easy) and "Q: 347*86=?" (hard) questions (scripts/demo/make_tools_data.py)
#   2. SFT warm-start of stories260K on traces that call the calculator for every hard question and
#      65% of the easy ones (configs/tools/sft.yaml)
#   3. RL from it, HDPO (configs/tools-hdpo.yaml) and coupled GRPO (configs/tools-grpo-coupled.yaml),
#      same budget, seeds 1-3, the two methods of a seed side by side on one core each
#   4. greedy evaluation every 20 steps on 25 easy and 100 unseen hard questions: accuracy and
#      tool calls per question, the table in runs/tools-demo/summary.md and the plot
#      runs/tools-demo/tools-hdpo.png (the README shows both)
# Usage: scripts/demo-tools-hdpo.sh [SEEDS...]   (default 1 2 3; about 25 minutes on 2 cores)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$VECRL_ROOT"
seeds=("$@")
((${#seeds[@]})) || seeds=(1 2 3)
start=$(date +%s)
if [[ ! -x build/vecrl ]]; then vecrl_install_packages; vecrl_build; fi
out=runs/tools-demo
rm -rf "$out"
mkdir -p "$out/data"
python3 scripts/demo/make_tools_data.py "$out/data"

echo "== SFT warm-start ($(date +%T))"
build/vecrl sft configs/tools/sft.yaml > "$out/sft.log" 2>&1 || { tail -20 "$out/sft.log"; exit 1; }
tail -2 "$out/sft.log"

for seed in "${seeds[@]}"; do
  echo "== RL seed $seed: hdpo and grpo-coupled side by side ($(date +%T))"
  pids=()
  for method in hdpo grpo-coupled; do
    name=${method//-/_}_seed$seed
    build/vecrl train "configs/tools-$method.yaml" run.name="$name" run.seed="$seed" run.threads=1 \
      eval.every=20 > "$out/$name.log" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || { echo "a run failed:"; tail -20 "$out"/*_seed"$seed".log; exit 1; }; done
done

python3 scripts/demo/summarize_tools_demo.py "$out" "${seeds[@]}"
echo "== done in $(( ($(date +%s) - start) / 60 )) min: $out/summary.md, $out/tools-hdpo.png"
