"""Experiment 3 summary: on held-out prompts, best@k (the best of the first k answers of one
response, k = 1, 2, 3) and mean@1 (one of its answers at random) under preference vectors unknown
at training time (Dirichlet(1) draws), plus how far apart a response's answers are.

usage: summarize.py OUT_DIR [--seeds 1 2 3]
"""
import argparse
import json
import os
import random
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import common  # noqa: E402

METHODS = ["vpo", "grpo"]
DIMS = ["animals/score", "short/score"]
ANSWERS = 3
NUM_PREFERENCES = 1000


def preferences(seed=2026):
    """Dirichlet(1, 1) draws: for two dimensions, w1 ~ U(0, 1)."""
    rng = random.Random(seed)
    out = []
    for _ in range(NUM_PREFERENCES):
        g = [rng.expovariate(1.0) for _ in DIMS]
        out.append([x / sum(g) for x in g])
    return out


def answer_vectors(completion):
    """The completion's answers as reward vectors; a missing answer scores 0 (VPO's rule)."""
    out = []
    for a in completion["answers"][:ANSWERS]:
        out.append([a[d] if a.get(d) is not None else 0.0 for d in DIMS])
    return out


def report_figures(report_path, prefs):
    report = json.load(open(report_path))
    best = {k: [] for k in range(1, ANSWERS + 1)}
    mean1, spread, answered = [], [], []
    for prompt in report["prompts"]:
        for c in prompt["completions"]:
            vecs = answer_vectors(c)
            answered.append(sum(1 for a in c["answers"] if a.get(DIMS[0]) is not None))
            for k in best:
                best[k].append(statistics.fmean(max(sum(wi * ri for wi, ri in zip(w, r)) for r in vecs[:k])
                                                for w in prefs))
            # an answer drawn at random from the response, under a random preference: E_w[w·r] is the
            # mean of r (Dirichlet(1) has mean (1/K, ..., 1/K)), exactly, without the draws
            mean1.append(statistics.fmean(statistics.fmean(r) for r in vecs + [[0.0] * len(DIMS)] * (ANSWERS - len(vecs))))
            pairs = [(a, b) for i, a in enumerate(vecs) for b in vecs[i + 1:]]
            spread.append(statistics.fmean(sum(abs(x - y) for x, y in zip(a, b)) for a, b in pairs))
    return {**{f"best@{k}": statistics.fmean(v) for k, v in best.items()}, "mean@1": statistics.fmean(mean1),
            "answer_spread": statistics.fmean(spread), "answers_per_response": statistics.fmean(answered)}


def eval_reports(run_dir):
    """The first and the last evaluation report."""
    reports = common.evaluations(run_dir)
    return reports[min(reports)], reports[max(reports)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--seeds", nargs="+", default=["1", "2", "3"])
    args = parser.parse_args()
    prefs = preferences()
    summary = {}
    keys = [f"best@{k}" for k in range(1, ANSWERS + 1)] + ["mean@1", "answer_spread", "answers_per_response"]
    base = [report_figures(eval_reports(os.path.join(args.out, f"vpo-s{s}"))[0], prefs) for s in args.seeds]
    summary["base"] = {k: common.mean_std(b[k] for b in base) for k in keys}
    chart = common.Chart("Held-out best@k under random preferences (mean ± std over seeds)", "k (answers of one response)",
                         "E_w max over k answers of w·r")
    for m, method in enumerate(METHODS):
        figures = [report_figures(eval_reports(os.path.join(args.out, f"{method}-s{s}"))[1], prefs) for s in args.seeds]
        summary[method] = {k: common.mean_std(f[k] for f in figures) for k in keys}
        ks = list(range(1, ANSWERS + 1))
        chart.points(ks, [summary[method][f"best@{k}"]["mean"] for k in ks], method, common.PALETTE[m],
                     errors=(None, [summary[method][f"best@{k}"]["std"] for k in ks]), connect=True)
    ks = list(range(1, ANSWERS + 1))
    chart.points(ks, [summary["base"][f"best@{k}"]["mean"] for k in ks], "base model", "#000000", connect=True)
    chart.save(os.path.join(args.out, "best_at_k.svg"))
    common.write_json(os.path.join(args.out, "summary.json"), summary)
    print("| arm | best@1 | best@2 | best@3 | mean@1 | answer spread (L1) | answers per response |")
    print("|---|---|---|---|---|---|---|")
    for arm in ["base"] + METHODS:
        s = summary[arm]
        print(f"| {arm} | " + " | ".join(common.fmt(s[k]) for k in keys) + " |")
    print(f"wrote {args.out}/summary.json and best_at_k.svg")


if __name__ == "__main__":
    main()
