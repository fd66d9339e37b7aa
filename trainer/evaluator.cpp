#include "trainer/evaluator.h"

#include <torch/types.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "core/jsonl.h"
#include "core/seeds.h"
#include "models/generation.h"
#include "models/policy_runner.h"
#include "rewards/reward_set.h"
#include "trainer/prompt_dataset.h"
#include "trainer/rollout_generator.h"

namespace vecrl::trainer {

double pass_at_k(int64_t n, int64_t c, int64_t k) {
  VECRL_CHECK(n >= 1 && c >= 0 && c <= n && k >= 1 && k <= n, "pass_at_k: n = ", n, ", c = ", c, ", k = ", k);
  if (n - c < k) return 1.0;
  double all_wrong = 1.0;  // C(n - c, k) / C(n, k) = prod_{i = n - c + 1}^{n} (1 - k / i)
  for (int64_t i = n - c + 1; i <= n; ++i) all_wrong *= 1.0 - static_cast<double>(k) / static_cast<double>(i);
  return 1.0 - all_wrong;
}

namespace {

std::string default_name(const std::string& path) {
  std::string stem = std::filesystem::path(path).filename().string();
  for (const char* ext : {".gz", ".jsonl", ".json"})
    if (stem.size() > std::strlen(ext) && stem.compare(stem.size() - std::strlen(ext), std::strlen(ext), ext) == 0)
      stem.resize(stem.size() - std::strlen(ext));
  return stem;
}

DataOptions eval_data_options(const EvalOptions& o, const ChatPromptOptions& chat) {
  DataOptions data;
  data.path = o.path;
  data.prompt_field = o.prompt_field;
  data.prompt_template = o.prompt_template;
  data.add_bos = o.add_bos;
  data.few_shot = o.few_shot;
  data.chat = chat;
  data.shuffle = false;
  return data;
}

// The dimension deciding correctness: eval.success, or the first trained one.
int64_t success_dimension(const rewards::RewardSet& rewards, const EvalOptions& o) {
  const auto& names = rewards.dim_names();
  for (std::size_t d = 0; d < names.size(); ++d)
    if (o.success.empty() ? rewards.weights()[d] != 0 : names[d] == o.success) return static_cast<int64_t>(d);
  throw core::Error(core::str_cat("eval.success: no reward dimension '", o.success, "'"));
}

struct ScoredCompletions {
  std::vector<core::Rollouts> batches;
  core::RewardMatrix rewards;  // all batches' rows, in order
};

// o.n completions of each record in batches of o.batch_prompts, in eval mode and without gradients.
ScoredCompletions generate_and_score(models::PolicyRunner& runner, rewards::RewardSet& rewards, const EvalOptions& o,
                                     const PromptDataset& dataset, const std::vector<nlohmann::json>& records,
                                     int64_t max_new_tokens, const RolloutGenerator& generator) {
  auto& policy = runner.policy();
  const bool was_training = policy->is_training();
  policy->eval();
  torch::NoGradGuard no_grad;
  ScoredCompletions out;
  std::vector<core::RewardMatrix> scored;
  const auto total = static_cast<int64_t>(records.size());
  for (int64_t start = 0; start < total; start += o.batch_prompts) {
    const int64_t end = std::min(total, start + o.batch_prompts);
    std::vector<nlohmann::json> batch(records.begin() + start, records.begin() + end);
    auto g = dataset.generation_options({o.temperature, 0, o.top_p, 0.0}, max_new_tokens, runner.tokenizer());
    // Prompt i samples the same at every evaluation.
    for (int64_t i = start; i < end; ++i) g.prompt_seeds.push_back(core::eval_prompt_seed(o.seed, i));
    auto r = generator.generate(dataset, batch, o.add_bos, o.n, g);
    scored.push_back(rewards.score(r));
    out.batches.push_back(std::move(r));
  }
  if (was_training) policy->train();
  out.rewards = core::RewardMatrix::stack_rows(scored);
  return out;
}

// {dimension: value, or null where not valid} of one answer of one rollout.
nlohmann::json answer_rewards_json(const core::RewardMatrix& all, int64_t row, int64_t answer) {
  nlohmann::json out;
  for (int64_t d = 0; d < all.dims(); ++d)
    out[all.names[d]] = all.valid[row][answer][d].item<bool>() ? nlohmann::json(all.values[row][answer][d].item<double>())
                                                               : nlohmann::json();
  return out;
}

// Every prompt with its completions, their reward vectors and correctness (and tool use).
nlohmann::json completions_report(const ScoredCompletions& c, const at::Tensor& correct, int64_t n) {
  const auto& all = c.rewards;
  nlohmann::json prompts = nlohmann::json::array();
  int64_t row = 0;
  for (const auto& r : c.batches)
    for (int64_t g = 0; g < r.num_groups(); ++g) {
      nlohmann::json entry{{"prompt", r.prompts[g * n]}, {"completions", nlohmann::json::array()}};
      for (int64_t j = 0; j < n; ++j, ++row) {
        const int64_t i = g * n + j;
        nlohmann::json completion{{"response", r.responses[i]}, {"rewards", answer_rewards_json(all, row, 0)},
                                  {"correct", correct[row].item<bool>()}};
        if (all.answers() > 1) {  // scoring.split: every answer's vector (null entries: no such answer)
          completion["answers"] = nlohmann::json::array();
          for (int64_t a = 0; a < all.answers(); ++a) completion["answers"].push_back(answer_rewards_json(all, row, a));
        }
        if (r.has_agent_stats()) {
          completion["tool_calls"] = r.tool_calls[i].item<int64_t>();
          completion["tool_failures"] = r.tool_failures[i].item<int64_t>();
          completion["turns"] = r.turns[i].item<int64_t>();
        }
        entry["completions"].push_back(completion);
      }
      prompts.push_back(entry);
    }
  return prompts;
}

// eval/<name>/response_length/mean and, for agent rollouts, the tools/* metrics.
void add_length_and_tool_metrics(const ScoredCompletions& c, const std::string& prefix, core::MetricMap& m) {
  double length = 0;
  int64_t completions = 0;
  std::vector<at::Tensor> calls, failures, turns;
  for (const auto& r : c.batches) {
    length += r.response_mask.sum().item<double>();
    completions += r.size();
    if (!r.has_agent_stats()) continue;
    calls.push_back(r.tool_calls);
    failures.push_back(r.tool_failures);
    turns.push_back(r.turns);
  }
  m[prefix + "response_length/mean"] = length / static_cast<double>(std::max<int64_t>(1, completions));
  if (calls.empty()) return;
  const auto tools = agent_metrics(torch::cat(calls), torch::cat(failures), torch::cat(turns), prefix);
  m.insert(tools.begin(), tools.end());
}

}  // namespace

EvalReport evaluate(models::PolicyRunner& runner, rewards::RewardSet& rewards, const EvalOptions& o,
                    const ChatPromptOptions& chat, int64_t default_max_new_tokens, int64_t step,
                    const RolloutGenerator& generator) {
  VECRL_CHECK(!o.path.empty(), "eval.path: no evaluation set is configured");
  PromptDataset dataset(eval_data_options(o, chat), o.seed, runner.model_dir());
  const int64_t total = o.max_prompts > 0 ? std::min(o.max_prompts, dataset.size()) : dataset.size();
  const auto records = dataset.next_batch(total);
  const std::string name = o.name.empty() ? default_name(o.path) : o.name;
  const int64_t success = success_dimension(rewards, o);
  const auto scored = generate_and_score(runner, rewards, o, dataset, records,
                                         o.max_new_tokens > 0 ? o.max_new_tokens : default_max_new_tokens, generator);
  const auto& all = scored.rewards;
  EvalReport out;
  const std::string prefix = "eval/" + name + "/";
  for (const auto& [key, value] : rewards::RewardSet::metrics(all, rewards.weights())) {
    if (key.rfind("rewards/", 0) == 0) out.metrics[prefix + "reward/" + key.substr(8)] = value;
    if (key == "critic/score/mean") out.metrics[prefix + "score/mean"] = value;
  }
  // Correctness per completion: the success dimension reaches the threshold (not-valid = wrong).
  auto correct = all.values.select(1, 0).select(1, success).ge(o.threshold).logical_and(all.valid.select(1, 0).select(1, success));
  auto per_prompt = correct.view({total, o.n}).sum(1);
  out.metrics[prefix + "mean@" + std::to_string(o.n)] = correct.to(torch::kDouble).mean().item<double>();
  for (auto k : o.k) {
    double sum = 0;
    for (int64_t p = 0; p < total; ++p) sum += pass_at_k(o.n, per_prompt[p].item<int64_t>(), k);
    out.metrics[prefix + "pass@" + std::to_string(k)] = sum / static_cast<double>(total);
  }
  add_length_and_tool_metrics(scored, prefix, out.metrics);
  out.report = {{"name", name},           {"step", step},         {"path", o.path},
                {"n", o.n},               {"temperature", o.temperature}, {"success", all.names[success]},
                {"threshold", o.threshold}, {"metrics", out.metrics}, {"prompts", completions_report(scored, correct, o.n)}};
  return out;
}

std::string write_eval_report(const EvalReport& result, const std::string& run_dir, int64_t step) {
  const auto name = result.report["name"].get<std::string>();
  const auto dir = std::filesystem::path(run_dir) / "eval";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / (name + "_step_" + std::to_string(step) + ".json")) << result.report.dump(1) << "\n";
  std::ostringstream line;
  line << "eval " << name << " at step " << step << ":";
  for (const auto& [k, v] : result.metrics) {
    const bool score = k.find("/score/mean") != std::string::npos;
    if (score || k.find("/pass@") != std::string::npos || k.find("/mean@") != std::string::npos)
      line << " " << (score ? "score" : k.substr(k.rfind('/') + 1)) << " " << std::setprecision(4) << v;
  }
  return line.str();
}

}  // namespace vecrl::trainer
