#!/usr/bin/env bash
# Shared by experiments/*/run.sh: builds vecrl when missing, runs training arms two at a time (one
# thread each: the 2-core machine), skips runs that already finished (a rerun resumes the sweep),
# then each experiment's summarize.py writes summary.json and plots.
set -euo pipefail

EXPERIMENTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$EXPERIMENTS_DIR/.." && pwd)"
VECRL="${VECRL:-$REPO_DIR/build/vecrl}"
JOBS="${JOBS:-2}"

ensure_vecrl() {
  if [[ ! -x "$VECRL" ]]; then
    echo "building vecrl (scripts/quickstart.sh installs the packages first if this fails)"
    cmake -S "$REPO_DIR" -B "$REPO_DIR/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    ninja -C "$REPO_DIR/build" vecrl
  fi
  command -v python3 >/dev/null || { echo "python3 is needed for the summaries (apt-get install -y python3)"; exit 1; }
}

# A job line: <run dir> <config> [overrides...]. The run is skipped when <run dir>/final exists.
# RUN_OVERRIDES (space-separated key=value) are appended to every run: the one-step test uses it.
run_jobs() {
  local joblist="$1"
  local total; total=$(grep -c . "$joblist")
  echo "$total runs, $JOBS at a time; logs beside each run folder"
  export RUN_OVERRIDES
  # shellcheck disable=SC2016
  xargs -P "$JOBS" -L 1 bash -c '
    dir="$0"; config="$1"; shift
    if [[ -d "$dir/final" ]]; then echo "done already: $dir"; exit 0; fi
    mkdir -p "$(dirname "$dir")"
    start=$(date +%s)
    if "'"$VECRL"'" train "$config" run.output_dir="$(dirname "$dir")" run.name="$(basename "$dir")" \
         run.threads=1 "$@" ${RUN_OVERRIDES:-} > "$dir.log" 2>&1; then
      echo "$(basename "$dir"): $(( $(date +%s) - start )) s"
    else
      echo "FAILED: $dir (see $dir.log)"; exit 255
    fi' < <(sed 's/[[:space:]]*$//' "$joblist")  # (xargs -L joins a line ending in a blank to the next)
}

# start_experiment NAME: from the repository root, with vecrl built; OUT (default
# runs/experiments/NAME) created, JOBLIST emptied, SEED_LIST the seeds to run (SEEDS or 1 2 3).
start_experiment() {
  EXPERIMENT="$1"
  cd "$REPO_DIR"
  ensure_vecrl
  OUT="${OUT:-runs/experiments/$EXPERIMENT}"
  mkdir -p "$OUT"
  JOBLIST="$OUT/jobs.txt"
  : > "$JOBLIST"
  SEED_LIST="${SEEDS:-1 2 3}"
}

# add_run NAME CONFIG [overrides...]: one training run, OUT/NAME.
add_run() {
  local name="$1"
  shift
  echo "$OUT/$name $*" >> "$JOBLIST"
}

# finish_experiment: the runs (two at a time), then the experiment's summarize.py.
finish_experiment() {
  run_jobs "$JOBLIST"
  # shellcheck disable=SC2086
  python3 "experiments/$EXPERIMENT/summarize.py" "$OUT" --seeds $SEED_LIST
}
