#!/usr/bin/env python3
"""Table and plot of the tool-use demo (scripts/demo-tools-hdpo.sh).

Usage: summarize_tools_demo.py OUT_DIR SEED [SEED ...]
Reads OUT_DIR/<method>_seed<S>/eval/eval_step_*.json (greedy evaluations before and after RL) and
metrics.jsonl (training curves); writes OUT_DIR/summary.md (mean ± std over seeds of accuracy and
tool calls per question, easy and hard questions apart) and OUT_DIR/tools-hdpo.png (gnuplot: the
same figures at every evaluation).
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
    note = ("Greedy decoding; mean ± std over seeds %s; 25 easy questions (a+b with a, b in 1..5) and 100 unseen "
            "hard ones (three digits × two digits)." % ", ".join(seeds))
    open(os.path.join(out, "summary.md"), "w").write("\n".join(lines) + "\n\n" + note + "\n")
    print("\n".join(lines) + "\n\n" + note)

    # Curves from the greedy evaluations (every 20 steps), mean over seeds.
    tsv = os.path.join(out, "curves.tsv")
    with open(tsv, "w") as f:
        by_method = {}
        for method, _ in METHODS:
            points = {}
            for run in runs[method]:
                for path in glob.glob(os.path.join(run, "eval", "eval_step_*.json")):
                    step = int(path.rsplit("_", 1)[1].split(".")[0])
                    points.setdefault(step, []).append(eval_figures(path))
            by_method[method] = points
        steps = sorted(set().union(*[set(v) for v in by_method.values()]))
        for step in steps:
            cols = [str(step)]
            for method, _ in METHODS:
                figs = by_method[method].get(step, [])
                for kind, index in (("easy", 1), ("hard", 1), ("easy", 0), ("hard", 0)):
                    cols.append("%.4f" % statistics.mean(f[kind][index] for f in figs) if figs else "NaN")
            f.write("\t".join(cols) + "\n")
    png = os.path.join(out, "tools-hdpo.png")
    a, b = METHODS[0][1], METHODS[1][1]
    script = """
set terminal pngcairo size 1000,420 font ',10'
set output '{png}'
set multiplot layout 1,2 title 'stories260K + calculator: greedy evaluation, mean of seeds {seeds}'
set xlabel 'RL step'
set key center right
set ylabel 'tool calls per question'
set yrange [-0.05:1.05]
plot '{tsv}' using 1:2 with linespoints lw 2 lc 1 title '{a}: easy', '' using 1:3 with linespoints lw 2 lc 1 dt 2 title '{a}: hard', \\
     '' using 1:6 with linespoints lw 2 lc 2 title '{b}: easy', '' using 1:7 with linespoints lw 2 lc 2 dt 2 title '{b}: hard'
set ylabel 'accuracy'
plot '{tsv}' using 1:4 with linespoints lw 2 lc 1 title '{a}: easy', '' using 1:5 with linespoints lw 2 lc 1 dt 2 title '{a}: hard', \\
     '' using 1:8 with linespoints lw 2 lc 2 title '{b}: easy', '' using 1:9 with linespoints lw 2 lc 2 dt 2 title '{b}: hard'
unset multiplot
""".format(png=png, seeds=",".join(seeds), tsv=tsv, a=a, b=b)
    subprocess.run(["gnuplot"], input=script.encode(), check=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
