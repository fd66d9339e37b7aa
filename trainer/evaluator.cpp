#include "trainer/evaluator.h"

#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "core/jsonl.h"
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

}  // namespace

EvalReport evaluate(models::PolicyRunner& runner, rewards::RewardSet& rewards, const EvalOptions& o,
                    const ChatPromptOptions& chat, int64_t default_max_new_tokens, int64_t step,
                    const RolloutGenerator& generator) {
  VECRL_CHECK(!o.path.empty(), "eval.path: no evaluation set is configured");
  DataOptions data;
  data.path = o.path;
  data.prompt_field = o.prompt_field;
  data.prompt_template = o.prompt_template;
  data.add_bos = o.add_bos;
  data.few_shot = o.few_shot;
  data.chat = chat;
  data.shuffle = false;
  PromptDataset dataset(data, o.seed, runner.model_dir());
  const int64_t total = o.max_prompts > 0 ? std::min(o.max_prompts, dataset.size()) : dataset.size();
  auto records = dataset.next_batch(total);
  const std::string name = o.name.empty() ? default_name(o.path) : o.name;
  const auto& names = rewards.dim_names();
  const auto& weights = rewards.weights();
  int64_t success = -1;
  for (std::size_t d = 0; d < names.size() && success < 0; ++d)
    if (o.success.empty() ? weights[d] != 0 : names[d] == o.success) success = static_cast<int64_t>(d);
  VECRL_CHECK(success >= 0, "eval.success: no reward dimension '", o.success, "'");

  const auto& tok = runner.tokenizer();
  auto& policy = runner.policy();
  const bool was_training = policy->is_training();
  policy->eval();
  torch::NoGradGuard no_grad;
  std::vector<core::RewardMatrix> scored;
  std::vector<core::Rollouts> batches;
  for (int64_t start = 0; start < total; start += o.batch_prompts) {
    const int64_t end = std::min(total, start + o.batch_prompts);
    std::vector<nlohmann::json> batch(records.begin() + start, records.begin() + end);
    std::vector<uint64_t> seeds;
    for (int64_t i = start; i < end; ++i)
      seeds.push_back(o.seed + static_cast<uint64_t>(i));  // prompt i samples the same at every evaluation
    models::GenerationOptions g;
    g.sampler.temperature = o.temperature;
    g.sampler.top_p = o.top_p;
    g.max_new_tokens = o.max_new_tokens > 0 ? o.max_new_tokens : default_max_new_tokens;
    dataset.set_stops(g, tok);
    g.pad_token_id = tok.eos_id();
    g.prompt_seeds = seeds;
    auto r = generator.generate(dataset, batch, o.add_bos, o.n, g);
    scored.push_back(rewards.score(r));
    batches.push_back(std::move(r));
  }
  if (was_training) policy->train();

  auto all = core::RewardMatrix::stack_rows(scored);
  EvalReport out;
  const std::string prefix = "eval/" + name + "/";
  for (const auto& [key, value] : rewards::RewardSet::metrics(all, weights)) {
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
  double length = 0;
  int64_t completions = 0;
  nlohmann::json prompts = nlohmann::json::array();
  int64_t row = 0;
  for (const auto& r : batches) {
    length += r.response_mask.sum().item<double>();
    completions += r.size();
    for (int64_t g = 0; g < r.num_groups(); ++g) {
      nlohmann::json entry{{"prompt", r.prompts[g * o.n]}, {"completions", nlohmann::json::array()}};
      for (int64_t j = 0; j < o.n; ++j, ++row) {
        nlohmann::json rewards_json;
        for (int64_t d = 0; d < all.dims(); ++d)
          rewards_json[names[d]] = all.valid[row][0][d].item<bool>() ? nlohmann::json(all.values[row][0][d].item<double>())
                                                                     : nlohmann::json();
        nlohmann::json completion{
            {"response", r.responses[g * o.n + j]}, {"rewards", rewards_json}, {"correct", correct[row].item<bool>()}};
        if (r.has_agent_stats()) {
          completion["tool_calls"] = r.tool_calls[g * o.n + j].item<int64_t>();
          completion["tool_failures"] = r.tool_failures[g * o.n + j].item<int64_t>();
          completion["turns"] = r.turns[g * o.n + j].item<int64_t>();
        }
        entry["completions"].push_back(completion);
      }
      prompts.push_back(entry);
    }
  }
  out.metrics[prefix + "response_length/mean"] = length / static_cast<double>(std::max<int64_t>(1, completions));
  if (generator.multi_turn()) {
    std::vector<at::Tensor> calls, failures, turns;
    for (const auto& r : batches) {
      calls.push_back(r.tool_calls);
      failures.push_back(r.tool_failures);
      turns.push_back(r.turns);
    }
    const auto tools = agent_metrics(torch::cat(calls), torch::cat(failures), torch::cat(turns), prefix);
    out.metrics.insert(tools.begin(), tools.end());
  }
  out.report = {{"name", name}, {"step", step}, {"path", o.path}, {"n", o.n}, {"temperature", o.temperature},
                {"success", names[success]}, {"threshold", o.threshold}, {"metrics", out.metrics}, {"prompts", prompts}};
  return out;
}

}  // namespace vecrl::trainer
