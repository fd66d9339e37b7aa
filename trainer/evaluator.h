#pragma once
// Evaluation on a held-out set: greedy or n sampled completions per prompt, scored by the run's
// reward modules; mean@n, unbiased pass@k and per-dimension means as eval/<name>/... metrics, and a
// JSON report with every completion. Used by `vecrl eval` and periodically during training.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/metrics.h"
#include "trainer/chat_prompt.h"
#include "trainer/few_shot.h"

namespace vecrl::models {
class PolicyRunner;
}
namespace vecrl::rewards {
class RewardSet;
}

namespace vecrl::trainer {

class RolloutGenerator;

struct EvalOptions {
  std::string path;  // held-out records (.jsonl, .jsonl.gz, .json); empty = no evaluation
  std::string name;  // metric prefix eval/<name>/ (default: the file name without extensions)
  std::string prompt_field = "prompt";
  std::string prompt_template;
  bool add_bos = true;
  FewShotOptions few_shot;
  int64_t n = 1;              // completions per prompt
  double temperature = 0.0;   // 0 = greedy (then n must be 1)
  double top_p = 1.0;
  std::vector<int64_t> k{1};  // pass@k for each k <= n
  int64_t max_prompts = 0;    // 0 = all records
  int64_t max_new_tokens = 0; // 0 = rollout.max_new_tokens
  int64_t batch_prompts = 8;
  std::string success;        // dimension deciding correctness (default: the first trained one)
  double threshold = 1.0;     // correct when success >= threshold
  int64_t every = 0;          // evaluate every N training steps (0 = never during training)
  bool before_train = false;  // evaluate once before the first step (verl's val_before_train)
  uint64_t seed = 1234;

  template <class V>
  void visit(V& v) {
    v.field("path", path);
    v.field("name", name);
    v.field("prompt_field", prompt_field);
    v.field("prompt_template", prompt_template);
    v.field("add_bos", add_bos);
    v.section("few_shot", few_shot);
    v.field("n", n);
    v.field("temperature", temperature);
    v.field("top_p", top_p);
    v.field("k", k);
    v.field("max_prompts", max_prompts);
    v.field("max_new_tokens", max_new_tokens);
    v.field("batch_prompts", batch_prompts);
    v.field("success", success);
    v.field("threshold", threshold);
    v.field("every", every);
    v.field("before_train", before_train);
    v.field("seed", seed);
    v.require(n >= 1, "n", core::str_cat("must be >= 1, got ", n));
    v.require(temperature > 0 || n == 1, "n", core::str_cat("greedy decoding (temperature 0) gives one completion; got n = ", n));
    v.require(temperature >= 0, "temperature", core::str_cat("must be >= 0, got ", temperature));
    v.require(top_p > 0 && top_p <= 1, "top_p", core::str_cat("must be in (0, 1], got ", top_p));
    for (auto kk : k) v.require(kk >= 1 && kk <= n, "k", core::str_cat("every k must be in [1, n = ", n, "], got ", kk));
    v.require(max_prompts >= 0 && max_new_tokens >= 0 && batch_prompts >= 1 && every >= 0, "max_prompts",
              "max_prompts, max_new_tokens and every must be >= 0, batch_prompts >= 1");
  }
};

// Unbiased pass@k (Chen et al. 2021) for one prompt with c correct of n samples:
// 1 − C(n − c, k) / C(n, k), computed as a product to stay exact for large n.
double pass_at_k(int64_t n, int64_t c, int64_t k);

struct EvalReport {
  core::MetricMap metrics;  // eval/<name>/...
  nlohmann::json report;    // metrics plus every prompt's completions and reward vectors
};

// Prompts are put in the training run's chat format (`chat`), against runner's model folder;
// `generator` makes the completions (the run's agent loop, if any: then eval/<name>/tools/...
// metrics and each completion's tool calls are reported too).
EvalReport evaluate(models::PolicyRunner& runner, rewards::RewardSet& rewards, const EvalOptions& options,
                    const ChatPromptOptions& chat, int64_t default_max_new_tokens, int64_t step,
                    const RolloutGenerator& generator);

// Writes the report as <run_dir>/eval/<name>_step_<step>.json and returns the console line with its
// headline metrics (pass@k, mean@n, score).
std::string write_eval_report(const EvalReport& result, const std::string& run_dir, int64_t step);

}  // namespace vecrl::trainer
