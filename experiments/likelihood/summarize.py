"""Experiment 4 summary: per answer length (2, 8, 24 words) and split (training prompts, held-out
prompts), the per-token log-likelihood of a* after the sampled sentence z, p(a*) itself and the
exact-match rate, at each evaluation; and how much signal each reward gave during training.

usage: summarize.py OUT_DIR [--seeds 1 2 3]
"""
import argparse
import json
import math
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import common  # noqa: E402

ARMS = ["logprob", "prob", "exact", "jepo"]
LENGTHS = ["short", "medium", "long"]
SPLITS = ["train", "heldout"]


def report_figures(path, rows):
    """{(split, length): {avg_logprob, log10_prob, exact}} of one evaluation report."""
    report = json.load(open(path))
    if len(report["prompts"]) != len(rows):
        raise SystemExit(f"{path}: {len(report['prompts'])} prompts, eval.jsonl has {len(rows)}")
    cells = {}
    for row, prompt in zip(rows, report["prompts"]):
        if row["prompt"] not in prompt["prompt"]:
            raise SystemExit(f"{path}: prompt order differs from eval.jsonl at {row['prompt']!r}")
        cell = cells.setdefault((row["split"], row["length"]), {"avg_logprob": [], "log10_prob": [], "exact": []})
        for c in prompt["completions"]:
            r = c["rewards"]
            cell["avg_logprob"].append(r["answer/avg_logprob"])
            cell["log10_prob"].append(r["answer/logprob"] / math.log(10))
            cell["exact"].append(r["exact/score"])
    return {key: {k: statistics.fmean(v) for k, v in cell.items()} for key, cell in cells.items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--seeds", nargs="+", default=["1", "2", "3"])
    args = parser.parse_args()
    rows = common.read_jsonl(os.path.join(args.out, "data", "eval.jsonl"))
    summary = {}
    for arm in ARMS:
        runs = [os.path.join(args.out, f"{arm}-s{s}") for s in args.seeds]
        by_step = {}
        for run in runs:
            for step, path in common.evaluations(run).items():
                by_step.setdefault(step, []).append(report_figures(path, rows))
        steps = sorted(by_step)
        cells = {}
        for split in SPLITS:
            for length in LENGTHS:
                cells[f"{split}/{length}"] = {
                    metric: [common.mean_std(f[(split, length)][metric] for f in by_step[s]) for s in steps]
                    for metric in ("avg_logprob", "log10_prob", "exact")}
        signal = []
        for run in runs:
            _, zero_std = common.train_series(run, "frac_reward_zero_std")
            signal.append(1 - statistics.fmean(zero_std))
        spread = []
        for run in runs:
            _, hi = common.train_series(run, "critic/advantages/max")
            _, lo = common.train_series(run, "critic/advantages/min")
            spread.append(statistics.fmean(h - l for h, l in zip(hi, lo)))
        summary[arm] = {"steps": steps, "cells": cells, "groups_with_signal": common.mean_std(signal),
                        "advantage_range": common.mean_std(spread)}
    common.write_json(os.path.join(args.out, "summary.json"), summary)

    for split in SPLITS:
        chart = common.Chart(f"{split} prompts: per-token log p(a* | p, z), mean ± std over seeds", "RL step",
                             "mean log-prob per answer token", width=640)
        for a, arm in enumerate(ARMS):
            for l, length in enumerate(LENGTHS):
                series = summary[arm]["cells"][f"{split}/{length}"]["avg_logprob"]
                chart.line(summary[arm]["steps"], [x["mean"] for x in series], f"{arm}: {length}",
                           common.PALETTE[a], [(x["mean"] - x["std"], x["mean"] + x["std"]) for x in series],
                           dashed=l == 2)
        chart.save(os.path.join(args.out, f"logprob_{split}.svg"))

    print("| reward | answer | train prompts: log-prob / token, before → after | held-out: before → after | "
          "held-out log10 p(a*) after | held-out exact match after |")
    print("|---|---|---|---|---|---|")
    for arm in ARMS:
        for length in LENGTHS:
            t = summary[arm]["cells"][f"train/{length}"]
            h = summary[arm]["cells"][f"heldout/{length}"]
            print(f"| {arm} | {length} | {common.fmt(t['avg_logprob'][0])} → {common.fmt(t['avg_logprob'][-1])} | "
                  f"{common.fmt(h['avg_logprob'][0])} → {common.fmt(h['avg_logprob'][-1])} | "
                  f"{common.fmt(h['log10_prob'][-1], 1)} | {common.fmt(h['exact'][-1], 2)} |")
    print("\n| reward | training groups whose reward varied | mean advantage range (max - min) per step |")
    print("|---|---|---|")
    for arm in ARMS:
        s = summary[arm]
        print(f"| {arm} | {common.fmt(s['groups_with_signal'], 2)} | {common.fmt(s['advantage_range'], 3)} |")
    print(f"wrote {args.out}/summary.json, logprob_train.svg, logprob_heldout.svg")


if __name__ == "__main__":
    main()
