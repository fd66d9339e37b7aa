"""Synthetic data for experiment 5 (experiments/hdpo/README.md): questions on which a direct answer
is sometimes right and sometimes wrong, so that accuracy varies within a group.

Three kinds of question, "Q: <expr>=?":
  easy    a+b, a, b in 1..5 (25 facts the SFT makes the model memorise);
  medium  a+b, a in 11..39, b in 2..9 (232 sums; the SFT shows the direct answer for 40% of them,
          so a direct answer is a guess the model gets right part of the time, and the calculator
          is always right);
  hard    three digits times two digits (never answerable without the calculator).
The SFT traces call the calculator for every hard question, 65% of the easy and 60% of the medium
ones; the rest are answered directly. RL should keep the tool where a direct answer fails and drop
it where a direct answer is reliably right.

usage: make_data.py OUT_DIR [SEED]
writes OUT_DIR/sft.jsonl (conversations), rl.jsonl and eval.jsonl (prompt, answer, kind); the
evaluation holds all 25 easy questions, 60 medium and 60 hard ones that neither sft.jsonl nor
rl.jsonl asks.
"""
import json
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "demo"))
from make_tools_data import call  # noqa: E402  (the calculator-call format of the tool demo)

EASY = ["%d+%d" % (a, b) for a in range(1, 6) for b in range(1, 6)]
MEDIUM = ["%d+%d" % (a, b) for a in range(11, 40) for b in range(2, 10)]


def hard_question(rng):
    return "%d*%d" % (rng.randint(100, 999), rng.randint(10, 99))


def record(expr, kind):
    return {"prompt": "Q: %s=?" % expr, "answer": str(eval(expr)), "kind": kind}  # expr: our own digits


def trace(expr, use_tool):
    turns = [{"role": "user", "content": "Q: %s=?" % expr}]
    if use_tool:
        turns += [{"role": "assistant", "content": call(expr)}, {"role": "tool", "content": str(eval(expr))}]
    turns.append({"role": "assistant", "content": "\\boxed{%d}" % eval(expr)})
    return {"prompt": turns}


def main(out_dir, seed=0):
    rng = random.Random(seed)
    medium = MEDIUM[:]
    rng.shuffle(medium)
    eval_medium, train_medium = medium[:60], medium[60:]
    taught_directly = set(train_medium[:int(0.4 * len(train_medium))])
    seen_hard = set()

    def new_hard():
        while True:
            expr = hard_question(rng)
            if expr not in seen_hard:
                seen_hard.add(expr)
                return expr

    eval_rows = [record(e, "easy") for e in EASY] + [record(e, "medium") for e in eval_medium]
    eval_rows += [record(new_hard(), "hard") for _ in range(60)]

    sft_rows = []
    for _ in range(3000):
        u = rng.random()
        if u < 0.35:
            sft_rows.append(trace(rng.choice(EASY), rng.random() < 0.65))
        elif u < 0.7:
            expr = rng.choice(train_medium)
            sft_rows.append(trace(expr, expr not in taught_directly or rng.random() < 0.6))
        else:
            sft_rows.append(trace(new_hard(), True))

    rl_rows = []
    for _ in range(2000):
        u = rng.random()
        if u < 0.3:
            rl_rows.append(record(rng.choice(EASY), "easy"))
        elif u < 0.7:
            rl_rows.append(record(rng.choice(train_medium), "medium"))
        else:
            rl_rows.append(record(new_hard(), "hard"))

    os.makedirs(out_dir, exist_ok=True)
    for name, rows in (("sft", sft_rows), ("rl", rl_rows), ("eval", eval_rows)):
        with open(os.path.join(out_dir, name + ".jsonl"), "w") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0)
