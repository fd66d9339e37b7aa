#!/usr/bin/env python3
"""Table and plot of the tool-use demo (scripts/demo-tools-hdpo.sh).

Usage: summarize_tools_demo.py OUT_DIR SEED [SEED ...]
Reads OUT_DIR/<method>_seed<S>/eval/eval_step_*.json (greedy evaluations before and after RL) and
metrics.jsonl (training curves); writes OUT_DIR/summary.md (mean ± std over seeds of accuracy and
tool calls per question, easy and hard questions apart) and OUT_DIR/tools-hdpo.png (gnuplot).
"""
import glob
import json
import os
import statistics
import subprocess
import sys

METHODS = [("hdpo", "HDPO (decoupled)"), ("grpo_coupled", "GRPO, coupled reward")]


def eval_figures(path):
    """accuracy and tool calls per question, overall and per kind (easy: a+b, hard: a*b)."""
    report = json.load(open(path))
    rows = {"all": [], "easy": [], "hard": []}
    for prompt in report["prompts"]:
        kind = "hard" if "*" in prompt["prompt"] else "easy"
        for c in prompt["completions"]:
            item = (1.0 if c["correct"] else 0.0, float(c.get("tool_calls", 0)))
            rows[kind].append(item)
            rows["all"].append(item)
    return {k: (statistics.mean(a for a, _ in v), statistics.mean(t for _, t in v)) for k, v in rows.items() if v}


def mean_std(values):
    if len(values) == 1:
        return "%.2f" % values[0]
    return "%.2f ± %.2f" % (statistics.mean(values), statistics.stdev(values))


def main(out, seeds):
    runs = {m: ["%s/%s_seed%s" % (out, m, s) for s in seeds] for m, _ in METHODS}
    lines = ["| model | questions | accuracy | tool calls / question |", "|---|---|---|---|"]
    first = runs[METHODS[0][0]][0]
    before = eval_figures(os.path.join(first, "eval", "eval_step_0.json"))
    for kind in ("easy", "hard", "all"):
        lines.append("| SFT warm-start (before RL) | %s | %.2f | %.2f |" % (kind, before[kind][0], before[kind][1]))
    for method, label in METHODS:
        finals = []
        for run in runs[method]:
            steps = sorted(glob.glob(os.path.join(run, "eval", "eval_step_*.json")),
                           key=lambda p: int(p.rsplit("_", 1)[1].split(".")[0]))
            finals.append(eval_figures(steps[-1]))
        for kind in ("easy", "hard", "all"):
            acc = [f[kind][0] for f in finals]
            calls = [f[kind][1] for f in finals]
            lines.append("| %s, after RL | %s | %s | %s |" % (label, kind, mean_std(acc), mean_std(calls)))
    note = ("Greedy decoding; mean ± std over seeds %s; 81 easy questions (a+b, one digit each) and 100 unseen "
            "hard ones (three digits × two digits)." % ", ".join(seeds))
    open(os.path.join(out, "summary.md"), "w").write("\n".join(lines) + "\n\n" + note + "\n")
    print("\n".join(lines) + "\n\n" + note)

    # Training curves, mean over seeds: tool calls per rollout and accuracy.
    tsv = os.path.join(out, "curves.tsv")
    with open(tsv, "w") as f:
        per_method = {}
        for method, _ in METHODS:
            by_step = {}
            for run in runs[method]:
                for line in open(os.path.join(run, "metrics.jsonl")):
                    m = json.loads(line)
                    if "tools/call_frequency" in m:
                        by_step.setdefault(m["step"], []).append((m["tools/call_frequency"], m["rewards/answer/correct/mean"]))
            per_method[method] = by_step
        steps = sorted(set().union(*[set(v) for v in per_method.values()]))
        for step in steps:
            cols = [str(step)]
            for method, _ in METHODS:
                vals = per_method[method].get(step, [])
                cols += ["%.4f" % statistics.mean(v[0] for v in vals), "%.4f" % statistics.mean(v[1] for v in vals)] if vals else ["NaN", "NaN"]
            f.write("\t".join(cols) + "\n")
    png = os.path.join(out, "tools-hdpo.png")
    script = """
set terminal pngcairo size 1000,420 font ',10'
set output '%s'
set multiplot layout 1,2 title 'stories260K + calculator, mean of seeds %s (training rollouts)'
set xlabel 'RL step'
set key bottom left
set ylabel 'tool calls per rollout'
plot '%s' using 1:2 with lines lw 2 title '%s', '' using 1:4 with lines lw 2 title '%s'
set ylabel 'accuracy (answer/correct)'
set yrange [0:1]
plot '%s' using 1:3 with lines lw 2 title '%s', '' using 1:5 with lines lw 2 title '%s'
unset multiplot
""" % (png, ",".join(seeds), tsv, METHODS[0][1], METHODS[1][1], tsv, METHODS[0][1], METHODS[1][1])
    subprocess.run(["gnuplot"], input=script.encode(), check=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
