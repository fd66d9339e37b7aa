"""Data for experiment 4 (experiments/likelihood/README.md): story prompts whose reference answer
a* is the base model's own continuation after its first sentence, cut to 2, 8 or 24 words.

The policy writes one sentence z (the "reasoning"); the likelihood reward scores log p(a* | prompt,
z). Every prompt appears once per answer length, so the three lengths share prompts and only the
answer's length differs.

usage: make_data.py VECRL OUT_DIR
writes OUT_DIR/train.jsonl (the 32 training prompts x 3 lengths) and OUT_DIR/eval.jsonl (8 of the
training prompts and the 16 held-out ones, x 3 lengths, with "split": train | heldout).
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
MODEL = os.path.join(HERE, "..", "..", "..", "shared", "data", "models", "stories260K")
LENGTHS = {"short": 2, "medium": 8, "long": 24}


def prompts(name):
    with open(os.path.join(DATA, name)) as f:
        return [json.loads(line)["prompt"] for line in f if line.strip()]


def continuations(vecrl, texts):
    """The base model's sampled continuation of each prompt (temperature 0.8, seed 7)."""
    cmd = [vecrl, "generate", "--model", MODEL, "--max-new-tokens", "160", "--temperature", "0.8", "--seed", "7",
           "--json", "--threads", "1"]
    for t in texts:
        cmd += ["--prompt", t]
    return [r["text"] for r in json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)]


def records(prompt, continuation, split):
    end = continuation.find(".")
    rest = continuation[end + 1:].split() if end >= 0 else []
    if len(rest) < max(LENGTHS.values()):
        raise SystemExit(f"continuation of {prompt!r} is too short for a 24-word answer: {continuation!r}")
    return [{"prompt": prompt, "answer": " ".join(rest[:n]), "length": name, "split": split,
             "model_first_sentence": continuation[:end + 1]} for name, n in LENGTHS.items()]


def main(vecrl, out_dir):
    train, heldout = prompts("story_train.jsonl"), prompts("story_heldout.jsonl")
    texts = continuations(vecrl, train + heldout)
    train_rows = [r for p, c in zip(train, texts) for r in records(p, c, "train")]
    eval_rows = train_rows[:8 * len(LENGTHS)]
    eval_rows += [r for p, c in zip(heldout, texts[len(train):]) for r in records(p, c, "heldout")]
    os.makedirs(out_dir, exist_ok=True)
    for name, rows in (("train", train_rows), ("eval", eval_rows)):
        with open(os.path.join(out_dir, name + ".jsonl"), "w") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
