"""An exported vecrl checkpoint loads in HF transformers unchanged and scores like vecrl.

    python3 scripts/gpu/hf_check.py VECRL_EXE EXPORTED_FOLDER

Loads the folder with AutoModelForCausalLM / AutoTokenizer, scores a few texts (BOS + text, float32
on the CPU) and compares each token's log-probability with `vecrl score` on the same folder.
Exits 1 on a difference above 1e-3 or any loading error; prints one line per text.
"""
import json
import subprocess
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

TEXTS = [
    "Once upon a time, there was a little girl.",
    "The dog was very happy and played in the park with a red ball.",
]


def vecrl_score(exe, folder, text):
    out = subprocess.run([exe, "score", "--model", folder, "--text", text], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main():
    exe, folder = sys.argv[1], sys.argv[2]
    model = AutoModelForCausalLM.from_pretrained(folder, torch_dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    worst = 0.0
    for text in TEXTS:
        ours = vecrl_score(exe, folder, text)
        ids = torch.tensor([ours["ids"]])
        if tokenizer.bos_token_id is not None:
            expected = [tokenizer.bos_token_id] + tokenizer(text, add_special_tokens=False)["input_ids"]
            if expected != ours["ids"]:
                print(f"token ids differ for {text!r}: transformers {expected} vecrl {ours['ids']}")
                return 1
        with torch.no_grad():
            logp = torch.log_softmax(model(ids).logits[0].float(), -1)
        theirs = logp[:-1].gather(-1, ids[0, 1:].unsqueeze(-1)).squeeze(-1)
        diff = (theirs - torch.tensor(ours["token_logprobs"])).abs().max().item()
        worst = max(worst, diff)
        print(f"{text!r}: {len(ours['token_logprobs'])} tokens, max |log p diff| {diff:.2e}")
    print(f"transformers {__import__('transformers').__version__} loaded {folder}; worst difference {worst:.2e}")
    return 0 if worst < 1e-3 else 1


if __name__ == "__main__":
    sys.exit(main())
