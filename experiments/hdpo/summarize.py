"""Experiment 5 summary: greedy accuracy and tool calls per question on easy, medium and hard
questions at every evaluation (every 20 steps), mean ± std over seeds, and how often accuracy
varied within the training groups.

usage: summarize.py OUT_DIR [--seeds 1 2 3]
"""
import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import common  # noqa: E402

METHODS = [("hdpo", "HDPO (decoupled)"), ("grpo", "GRPO, coupled reward")]
KINDS = ["easy", "medium", "hard"]


def kind_of(prompt, kinds):
    for text, kind in kinds.items():
        if text in prompt:
            return kind
    raise KeyError(f"no kind for prompt {prompt!r}")


def eval_figures(path, kinds):
    """{kind: (accuracy, tool calls per question)} of one evaluation report."""
    rows = {k: [] for k in KINDS}
    for prompt in json.load(open(path))["prompts"]:
        for c in prompt["completions"]:
            rows[kind_of(prompt["prompt"], kinds)].append((float(c["correct"]), float(c.get("tool_calls", 0))))
    return {k: (statistics.fmean(a for a, _ in v), statistics.fmean(t for _, t in v)) for k, v in rows.items() if v}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--seeds", nargs="+", default=["1", "2", "3"])
    args = parser.parse_args()
    kinds = {}
    for line in open(os.path.join(args.out, "data", "eval.jsonl")):
        r = json.loads(line)
        kinds[r["prompt"]] = r["kind"]
    summary, curves = {}, {}
    for method, _ in METHODS:
        runs = [os.path.join(args.out, f"{method}-s{s}") for s in args.seeds]
        per_step = {}
        for run in runs:
            for step, path in common.evaluations(run).items():
                per_step.setdefault(step, []).append(eval_figures(path, kinds))
        steps = sorted(s for s, figs in per_step.items() if len(figs) == len(runs))
        curves[method] = {k: {"steps": steps,
                              "accuracy": [common.mean_std(f[k][0] for f in per_step[s]) for s in steps],
                              "tool_calls": [common.mean_std(f[k][1] for f in per_step[s]) for s in steps]}
                          for k in KINDS}
        varied = []
        for run in runs:
            _, zero_std = common.train_series(run, "frac_reward_zero_std")
            varied.append(1 - statistics.fmean(zero_std))
        summary[method] = {"curves": curves[method], "groups_with_varying_reward": common.mean_std(varied)}
    common.write_json(os.path.join(args.out, "summary.json"), summary)

    for what, label in (("tool_calls", "tool calls per question"), ("accuracy", "accuracy")):
        chart = common.Chart(f"Greedy {label} on held-out questions (mean ± std over seeds)", "RL step", label,
                             width=620)
        for m, (method, name) in enumerate(METHODS):
            for k, kind in enumerate(KINDS):
                c = curves[method][kind]
                means = [x["mean"] for x in c[what]]
                band = [(x["mean"] - x["std"], x["mean"] + x["std"]) for x in c[what]]
                chart.line(c["steps"], means, f"{method}: {kind}", common.PALETTE[3 * m + k], band, dashed=m == 1)
        chart.save(os.path.join(args.out, f"{what}.svg"))

    print("| method | questions | accuracy before → after | tool calls / question before → after |")
    print("|---|---|---|---|")
    for method, name in METHODS:
        for kind in KINDS:
            c = curves[method][kind]
            print(f"| {name} | {kind} | {common.fmt(c['accuracy'][0], 2)} → {common.fmt(c['accuracy'][-1], 2)} | "
                  f"{common.fmt(c['tool_calls'][0], 2)} → {common.fmt(c['tool_calls'][-1], 2)} |")
    for method, name in METHODS:
        print(f"{name}: share of training groups whose reward varied: "
              f"{common.fmt(summary[method]['groups_with_varying_reward'], 2)}")
    print(f"wrote {args.out}/summary.json, tool_calls.svg, accuracy.svg")


if __name__ == "__main__":
    main()
