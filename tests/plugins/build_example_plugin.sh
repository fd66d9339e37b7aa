#!/usr/bin/env bash
# Builds examples/plugins/median_baseline against this build tree, as a newcomer would, and uses
# it through `vecrl advantage` and `vecrl train`. Usage: build_example_plugin.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
cmake -S "$src/examples/plugins/median_baseline" -B "$work/build" "${gen[@]}" -Dvecrl_DIR="$build" >/dev/null
cmake --build "$work/build" >/dev/null
lib="$work/build/libmedian_baseline.so"
[[ -f $lib ]] || { echo "plugin not built"; exit 1; }

out=$(echo '{"groups": [{"rewards": [[0], [1], [1], [10]]}]}' |
      "$build/vecrl" advantage --plugin "$lib" --estimator median_baseline --set scale=2)
echo "$out"
[[ $out == '{"advantages":[[-0.5,0.0,0.0,4.5]]}' ]] || { echo "unexpected advantages"; exit 1; }

err=$(echo '{"groups": [{"rewards": [[0], [1]]}]}' |
      "$build/vecrl" advantage --plugin "$lib" --estimator median_baseline --set scale=-1 2>&1) && exit 1
[[ $err == *"config key 'scale': must be > 0"* ]] || { echo "bad option not reported: $err"; exit 1; }

# The same plugin selected by name in a run config.
cd "$src"
"$build/vecrl" train configs/quickstart.yaml "plugins=[$lib]" "advantage={type: median_baseline, scale: 1.0}" \
  run.output_dir="$work/runs" run.name=plugin train.steps=2 rollout.prompts_per_step=2 \
  rollout.group_size=4 rollout.max_new_tokens=8 train.mini_batches=1 >"$work/train.log" 2>&1 ||
  { cat "$work/train.log"; exit 1; }
grep -q "done: 2 steps" "$work/train.log" || { cat "$work/train.log"; exit 1; }
echo "example plugin built and used"
