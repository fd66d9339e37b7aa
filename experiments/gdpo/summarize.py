"""Experiment 2 summary: distinct advantage values per group (GDPO's resolution argument), the
per-dimension learning curves, and held-out means before and after training.

usage: summarize.py OUT_DIR [--seeds 1 2 3]
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import common  # noqa: E402

METHODS = ["grpo", "gdpo"]
DIMS = ["animal", "cheerful", "avoid_big"]


def resolution(run_dir):
    """Per group (over all steps): distinct advantage values, distinct reward vectors, distinct
    totals; groups whose rewards vary only."""
    adv, vectors, totals = [], [], []
    group_size = common.group_size(run_dir)
    for rows in common.samples_by_step(run_dir).values():
        for g in range(0, len(rows), group_size):
            group = rows[g:g + group_size]
            vecs = {tuple(s["rewards"][f"{d}/score"] for d in DIMS) for s in group}
            if len(vecs) < 2:
                continue
            vectors.append(len(vecs))
            totals.append(len({sum(v) for v in vecs}))
            adv.append(len({round(s["advantage"], 4) for s in group}))
    return {"groups": len(adv), "distinct_advantages": common.fmean_or_nan(adv),
            "distinct_reward_vectors": common.fmean_or_nan(vectors), "distinct_totals": common.fmean_or_nan(totals)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--seeds", nargs="+", default=["1", "2", "3"])
    args = parser.parse_args()
    summary = {}
    curves = {d: common.Chart(f"Training reward '{d}' (mean ± std over seeds, 5-step smoothing)", "step",
                              "batch mean") for d in DIMS + ["total"]}
    for m, method in enumerate(METHODS):
        runs = [os.path.join(args.out, f"{method}-s{seed}") for seed in args.seeds]
        res = [resolution(r) for r in runs]
        entry = {key: common.mean_std(r[key] for r in res)
                 for key in ("distinct_advantages", "distinct_reward_vectors", "distinct_totals")}
        entry["groups_with_signal"] = sum(r["groups"] for r in res)
        for d in DIMS:
            key = f"eval/story_heldout/reward/{d}/score/mean"
            entry[f"heldout_{d}_before"] = common.mean_std(common.first_eval(r, key) for r in runs)
            entry[f"heldout_{d}_after"] = common.mean_std(common.last_eval(r, key) for r in runs)
            series = [common.train_series(r, f"rewards/{d}/score/mean")[1] for r in runs]
            entry[f"train_{d}_last10"] = common.mean_std(common.window_mean(s, -10, 10) for s in series)
            means, band = common.mean_band([common.smooth(s, 5) for s in series])
            curves[d].line(list(range(1, len(means) + 1)), means, method, common.PALETTE[m], band)
        totals = [common.train_series(r, "critic/score/mean")[1] for r in runs]
        entry["train_total_last10"] = common.mean_std(common.window_mean(s, -10, 10) for s in totals)
        entry["train_total_all_steps"] = common.mean_std(statistics.fmean(s) for s in totals)
        entry["first_step_total_smoothed_ge_2.7"] = common.mean_std(
            next((i + 1 for i, v in enumerate(common.smooth(s, 5)) if v >= 2.7), len(s) + 1) for s in totals)
        entry["heldout_total_after"] = common.mean_std(
            common.last_eval(r, "eval/story_heldout/score/mean") for r in runs)
        means, band = common.mean_band([common.smooth(s, 5) for s in totals])
        curves["total"].line(list(range(1, len(means) + 1)), means, method, common.PALETTE[m], band)
        summary[method] = entry
    for d, chart in curves.items():
        chart.save(os.path.join(args.out, f"curve_{d}.svg"))
    common.write_json(os.path.join(args.out, "summary.json"), summary)

    print("| method | distinct advantages / group | distinct reward vectors / group | distinct totals / group |")
    print("|---|---|---|---|")
    for method in METHODS:
        e = summary[method]
        print(f"| {method} | {common.fmt(e['distinct_advantages'], 2)} | {common.fmt(e['distinct_reward_vectors'], 2)} | "
              f"{common.fmt(e['distinct_totals'], 2)} |")
    print("\n| method | " + " | ".join(f"{d} held-out before → after" for d in DIMS) + " | total (sum) held-out after |")
    print("|---|" + "---|" * (len(DIMS) + 1))
    for method in METHODS:
        e = summary[method]
        cells = [f"{common.fmt(e[f'heldout_{d}_before'], 2)} → {common.fmt(e[f'heldout_{d}_after'], 2)}" for d in DIMS]
        print(f"| {method} | " + " | ".join(cells) + f" | {common.fmt(e['heldout_total_after'], 2)} |")
    print("\n| method | " + " | ".join(f"{d} train last 10" for d in DIMS)
          + " | total train last 10 | total, mean of all steps | first step total ≥ 2.7 (5-step mean) |")
    print("|---|" + "---|" * (len(DIMS) + 3))
    for method in METHODS:
        e = summary[method]
        print(f"| {method} | " + " | ".join(common.fmt(e[f"train_{d}_last10"], 3) for d in DIMS)
              + f" | {common.fmt(e['train_total_last10'], 3)} | {common.fmt(e['train_total_all_steps'], 3)} | "
              f"{common.fmt(e['first_step_total_smoothed_ge_2.7'], 1)} |")
    print(f"wrote {args.out}/summary.json and curve_*.svg")


if __name__ == "__main__":
    main()
