#!/usr/bin/env python3
"""Synthetic data for the tool-use demo (scripts/demo-tools-hdpo.sh).

Questions are "Q: a+b=?" (easy: operands 1-5, 25 facts a tiny model memorises) or "Q: a*b=?" (hard: a
three-digit times a two-digit number, which a 260K-parameter model cannot compute, so it needs the
calculator). The SFT traces over-use the tool: every hard question and 65% of the easy ones go
through a calculator call (the rest answer directly, so the model knows the sums); RL should then learn to skip the call where it is not needed.

Writes, under OUT_DIR: sft.jsonl (agent traces as conversations), rl.jsonl (prompts + answers),
eval.jsonl (all 25 easy questions — facts to memorise, not to generalise — and 100 hard ones that
appear in neither sft.jsonl nor rl.jsonl).
"""
import json
import random
import sys


def call(expression):
    return ('<tool_call>{"name": "calculator", "arguments": {"expression": "%s"}}</tool_call>' % expression)


def hard_question(rng):
    a, b = rng.randint(100, 999), rng.randint(10, 99)
    return "%d*%d" % (a, b), a * b


def main(out_dir, seed=0):
    rng = random.Random(seed)
    easy = ["%d+%d" % (a, b) for a in range(1, 6) for b in range(1, 6)]
    seen_hard = set()

    def hard(rng_):
        while True:
            expr, value = hard_question(rng_)
            if expr not in seen_hard:
                seen_hard.add(expr)
                return expr, value

    def record(expr, value, kind):
        return {"prompt": "Q: %s=?" % expr, "answer": str(value), "kind": kind}

    eval_rows = []
    for expr in easy:
        eval_rows.append(record(expr, eval(expr), "easy"))
    for _ in range(100):
        expr, value = hard(rng)
        eval_rows.append(record(expr, value, "hard"))

    sft_rows = []
    for _ in range(3000):
        if rng.random() < 0.5:
            expr = rng.choice(easy)
            value, kind = eval(expr), "easy"
        else:
            (expr, value), kind = hard(rng), "hard"
        use_tool = kind == "hard" or rng.random() < 0.65
        turns = [{"role": "user", "content": "Q: %s=?" % expr}]
        if use_tool:
            turns += [{"role": "assistant", "content": call(expr)},
                      {"role": "tool", "content": str(value)}]
        turns.append({"role": "assistant", "content": "\\boxed{%d}" % value})
        sft_rows.append({"prompt": turns})

    rl_rows = []
    for _ in range(2000):
        if rng.random() < 0.5:
            expr = rng.choice(easy)
            rl_rows.append(record(expr, eval(expr), "easy"))
        else:
            expr, value = hard(rng)
            rl_rows.append(record(expr, value, "hard"))

    for name, rows in (("sft", sft_rows), ("rl", rl_rows), ("eval", eval_rows)):
        with open("%s/%s.jsonl" % (out_dir, name), "w") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0)
