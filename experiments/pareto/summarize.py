"""Experiment 1 summary: the reached (animals, short) points per method and weight on held-out
prompts, each method's hypervolume, and |A_DVAO| <= |A_RC| measured on the training batches.

usage: summarize.py OUT_DIR [--seeds 1 2 3]
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import common  # noqa: E402

METHODS = ["dvao", "rc", "ac", "gdpo"]
WEIGHTS = ["0.2", "0.5", "0.8"]
DIMS = ("animals/score", "short/score")
EVAL = "eval/story_heldout/reward/{}/mean"


def rc_advantages(totals, eps):
    """RC: the weighted total z-scored within the group, population std (algorithms.md §2); with
    eps = 0 the exact z-score of Prop. 2 (0 for a constant group), with 1e-6 the trainer's."""
    mu = statistics.fmean(totals)
    sd = statistics.pstdev(totals)
    if eps == 0 and sd <= 1e-8:
        return [0.0] * len(totals)
    return [(t - mu) / (sd + eps) for t in totals]


def dvao_advantages(rows, weights):
    """DVAO closed form: sum_k w_k (r_k - mu_k) / sum_k w_k sigma_k; 0 when the sum is 0."""
    columns = [[r[d] for r in rows] for d in DIMS]
    S = sum(w * statistics.pstdev(c) for w, c in zip(weights, columns))
    if S <= 1e-8:
        return [0.0] * len(rows)
    mus = [statistics.fmean(c) for c in columns]
    return [sum(w * (r[d] - m) for w, d, m in zip(weights, DIMS, mus)) / S for r in rows]


def advantage_check(run_dir, weights, method):
    """Over every logged training rollout: the logged advantage against RC's and DVAO's on the
    same rewards; the share with |A| <= |A_RC|, sum |A| / sum |A_RC|, and how exactly the logged
    advantage matches the closed form of its own method."""
    n = within = 0
    sum_abs = sum_rc = 0.0
    worst_own = 0.0
    group_size = common.group_size(run_dir)
    for step_rows in common.samples_by_step(run_dir).values():
        for g in range(0, len(step_rows), group_size):
            group = step_rows[g:g + group_size]
            if len(group) < group_size:
                continue
            rewards = [s["rewards"] for s in group]
            totals = [sum(w * r[d] for w, d in zip(weights, DIMS)) for r in rewards]
            rc = rc_advantages(totals, 0.0)
            logged = [s["advantage"] for s in group]
            if method in ("dvao", "rc"):
                own = dvao_advantages(rewards, weights) if method == "dvao" else rc_advantages(totals, 1e-6)
                worst_own = max(worst_own, max(abs(a - b) for a, b in zip(logged, own)))
            for a, b in zip(logged, rc):
                n += 1
                within += abs(a) <= abs(b) * (1 + 1e-5) + 1e-6  # float32 logging
                sum_abs += abs(a)
                sum_rc += abs(b)
    return {"rollouts": n, "share_abs_le_rc": within / n, "abs_ratio_to_rc": sum_abs / sum_rc,
            "max_diff_from_closed_form": worst_own if method in ("dvao", "rc") else None}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--seeds", nargs="+", default=["1", "2", "3"])
    args = parser.parse_args()
    summary = {"methods": {}, "base": {}}
    base_points = []
    for seed in args.seeds:
        run = os.path.join(args.out, f"dvao-w0.5-s{seed}")
        base_points.append([common.first_eval(run, EVAL.format(d)) for d in DIMS])
    summary["base"] = {d: common.mean_std(p[i] for p in base_points) for i, d in enumerate(DIMS)}

    chart = common.Chart("Held-out (animals, short) after 100 steps: mean ± std over seeds",
                         "animals score (objective 1)", "short score (objective 2)")
    for m, method in enumerate(METHODS):
        per_weight, hv_per_seed = {}, []
        for w in WEIGHTS:
            weights = (float(w), round(1 - float(w), 6))
            points, checks = [], []
            for seed in args.seeds:
                run = os.path.join(args.out, f"{method}-w{w}-s{seed}")
                points.append([common.last_eval(run, EVAL.format(d)) for d in DIMS])
                checks.append(advantage_check(run, weights, method))
            per_weight[w] = {
                DIMS[0]: common.mean_std(p[0] for p in points),
                DIMS[1]: common.mean_std(p[1] for p in points),
                "share_abs_le_rc": common.mean_std(c["share_abs_le_rc"] for c in checks),
                "abs_ratio_to_rc": common.mean_std(c["abs_ratio_to_rc"] for c in checks),
                "max_diff_from_closed_form": max((c["max_diff_from_closed_form"] or 0.0) for c in checks),
                "rollouts_checked": sum(c["rollouts"] for c in checks),
                "points": points,
            }
        for s in range(len(args.seeds)):
            hv_per_seed.append(common.hypervolume_2d([per_weight[w]["points"][s] for w in WEIGHTS]))
        mean_points = [(per_weight[w][DIMS[0]]["mean"], per_weight[w][DIMS[1]]["mean"]) for w in WEIGHTS]
        summary["methods"][method] = {"weights": per_weight, "hypervolume_per_seed": common.mean_std(hv_per_seed),
                                      "hypervolume_of_mean_points": common.hypervolume_2d(mean_points)}
        chart.points([p[0] for p in mean_points], [p[1] for p in mean_points], method, common.PALETTE[m],
                     errors=([per_weight[w][DIMS[0]]["std"] for w in WEIGHTS],
                             [per_weight[w][DIMS[1]]["std"] for w in WEIGHTS]), connect=True)
    b = summary["base"]
    chart.points([b[DIMS[0]]["mean"]], [b[DIMS[1]]["mean"]], "base model", "#000000")
    chart.save(os.path.join(args.out, "front.svg"))
    common.write_json(os.path.join(args.out, "summary.json"), summary)

    print("| method | w | animals | short | share |A| <= |A_RC| | sum|A| / sum|A_RC| |")
    print("|---|---|---|---|---|---|")
    for method in METHODS:
        for w in WEIGHTS:
            r = summary["methods"][method]["weights"][w]
            print(f"| {method} | {w} | {common.fmt(r[DIMS[0]])} | {common.fmt(r[DIMS[1]])} | "
                  f"{common.fmt(r['share_abs_le_rc'])} | {common.fmt(r['abs_ratio_to_rc'])} |")
    print("\n| method | hypervolume (per seed) | hypervolume of the mean points |")
    print("|---|---|---|")
    for method in METHODS:
        r = summary["methods"][method]
        print(f"| {method} | {common.fmt(r['hypervolume_per_seed'])} | {r['hypervolume_of_mean_points']:.3f} |")
    print(f"\nbase model: animals {common.fmt(b[DIMS[0]])}, short {common.fmt(b[DIMS[1]])}")
    for method in ("dvao", "rc"):
        worst = max(summary["methods"][method]["weights"][w]["max_diff_from_closed_form"] for w in WEIGHTS)
        print(f"{method}: largest |logged - closed-form advantage| over all training rollouts: {worst:.2e}")
    print(f"wrote {args.out}/summary.json and {args.out}/front.svg")


if __name__ == "__main__":
    main()
