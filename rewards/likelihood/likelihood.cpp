// likelihood: how likely the sample's reference answer is after the generated reasoning, under the
// policy or the frozen reference model (algorithms.md §6). The response is cut at `marker` (the
// reasoning is what precedes it; the whole response when the marker is absent), then
// `answer_prefix` and the reference answer a* from `answer_field` follow. Dimensions: logprob,
// avg_logprob, prob, avg_prob (weight the ones you train on; log-prob is the paper's
// recommendation). Not implemented: JEPO's group reward and the Lemma-1 log-likelihood loss term.
#include <torch/torch.h>

#include <cmath>

#include "models/generation.h"
#include "models/logprobs.h"
#include "models/tokenizer.h"
#include "models/transformer.h"
#include "rewards/likelihood/likelihood_rewards.h"
#include "rewards/reward_module.h"

namespace vecrl::rewards {

LikelihoodRewards likelihood_rewards(const std::vector<double>& lp) {
  VECRL_CHECK(!lp.empty(), "likelihood: the reference answer has no tokens");
  LikelihoodRewards r;
  double prob_sum = 0;
  for (double x : lp) r.logprob += x, prob_sum += std::exp(x);
  const auto n = static_cast<double>(lp.size());
  r.avg_logprob = r.logprob / n;
  r.prob = std::exp(r.logprob);
  r.avg_prob = prob_sum / n;
  return r;
}

namespace {

enum class ScoringModel { kPolicy, kReference };

struct LikelihoodOptions {
  std::string answer_field = "answer";
  std::string marker;              // e.g. "</think>" or "Answer:"; empty = the whole response is reasoning
  bool keep_marker = true;         // the marker stays in the context before the answer
  std::string answer_prefix = " ";  // text between the reasoning and a*
  ScoringModel model = ScoringModel::kPolicy;
  int64_t batch_size = 16;

  template <class V>
  void visit(V& v) {
    v.field("answer_field", answer_field);
    v.field("marker", marker);
    v.field("keep_marker", keep_marker);
    v.field("answer_prefix", answer_prefix);
    v.choice("model", model, {{"policy", ScoringModel::kPolicy}, {"reference", ScoringModel::kReference}});
    v.field("batch_size", batch_size);
    v.require(batch_size >= 1, "batch_size", core::str_cat("must be >= 1, got ", batch_size));
  }
};

class Likelihood : public RewardModule {
 public:
  explicit Likelihood(LikelihoodOptions o) : o_(std::move(o)) {}

  std::vector<RewardDim> dims() const override {
    return {{"logprob", -INFINITY, 0}, {"avg_logprob", -INFINITY, 0}, {"prob", 0, 1}, {"avg_prob", 0, 1}};
  }
  bool needs_reference() const override { return o_.model == ScoringModel::kReference; }

  core::RewardMatrix score(const ScoreBatch& batch) const override {
    VECRL_CHECK(batch.models && batch.models->tokenizer, "likelihood: no model to score with (in `vecrl reward`, pass --model)");
    auto impl = o_.model == ScoringModel::kPolicy ? batch.models->policy : batch.models->reference;
    VECRL_CHECK(impl, "likelihood: the ", o_.model == ScoringModel::kPolicy ? "policy" : "reference",
                " model is not loaded");
    models::CausalLM model(impl);
    const auto& tok = *batch.models->tokenizer;
    const auto& rollouts = batch.rollouts;
    const int64_t n = rollouts.size(), m = batch.answers_per_rollout;
    auto matrix = core::RewardMatrix::zeros(n, m, {"logprob", "avg_logprob", "prob", "avg_prob"});
    matrix.valid.fill_(false);
    // One row per (rollout, answer): context = prompt tokens ++ reasoning (++ prefix), target = a*.
    std::vector<std::vector<int64_t>> contexts, targets;
    std::vector<std::pair<int64_t, int64_t>> cells;
    auto prompt_mask = rollouts.prompt_mask.to(torch::kCPU);
    auto prompt_ids = rollouts.prompt_ids.to(torch::kCPU);
    for (int64_t i = 0; i < n; ++i) {
      const std::string reference = record_string(rollouts.samples[i], o_.answer_field, "likelihood");
      auto prompt = prompt_ids[i].masked_select(prompt_mask[i]);
      std::vector<int64_t> prompt_tokens(prompt.data_ptr<int64_t>(), prompt.data_ptr<int64_t>() + prompt.numel());
      for (int64_t j = 0; j < static_cast<int64_t>(batch.answers[i].size()); ++j) {
        std::vector<int64_t> context = prompt_tokens;
        for (auto id : tok.encode(reasoning(batch.answers[i][j]) + o_.answer_prefix)) context.push_back(id);
        contexts.push_back(std::move(context));
        targets.push_back(tok.encode(reference));
        VECRL_CHECK(!targets.back().empty(), "likelihood: reference answer '", reference, "' has no tokens");
        cells.emplace_back(i, j);
      }
    }
    torch::NoGradGuard no_grad;
    auto values = matrix.values.accessor<float, 3>();
    auto valid = matrix.valid.accessor<bool, 3>();
    for (std::size_t start = 0; start < cells.size(); start += static_cast<std::size_t>(o_.batch_size)) {
      const std::size_t end = std::min(cells.size(), start + static_cast<std::size_t>(o_.batch_size));
      std::vector<std::vector<int64_t>> ctx(contexts.begin() + start, contexts.begin() + end);
      std::vector<std::vector<int64_t>> tgt(targets.begin() + start, targets.begin() + end);
      auto [ids, mask] = models::left_pad(ctx, tok.eos_id());
      std::size_t longest = 0;
      for (const auto& t : tgt) longest = std::max(longest, t.size());
      auto answer = torch::full({static_cast<int64_t>(tgt.size()), static_cast<int64_t>(longest)}, tok.eos_id(), torch::kLong);
      for (std::size_t r = 0; r < tgt.size(); ++r)
        answer[r].narrow(0, 0, static_cast<int64_t>(tgt[r].size())).copy_(torch::tensor(tgt[r]));
      const auto device = impl->parameters().front().device();
      auto lp = models::score_responses(model, ids.to(device), mask.to(device), answer.to(device), 1.0, false)
                    .logprobs.to(torch::kCPU, torch::kDouble);
      for (std::size_t r = 0; r < tgt.size(); ++r) {
        auto row = lp[r].narrow(0, 0, static_cast<int64_t>(tgt[r].size())).contiguous();
        const auto rewards = likelihood_rewards(std::vector<double>(row.data_ptr<double>(), row.data_ptr<double>() + row.numel()));
        const auto [i, j] = cells[start + r];
        const double row_values[4] = {rewards.logprob, rewards.avg_logprob, rewards.prob, rewards.avg_prob};
        for (int d = 0; d < 4; ++d) values[i][j][d] = static_cast<float>(row_values[d]), valid[i][j][d] = true;
      }
    }
    return matrix;
  }

 private:
  std::string reasoning(const std::string& text) const {
    if (o_.marker.empty()) return text;
    const auto at = text.find(o_.marker);
    if (at == std::string::npos) return text;
    return text.substr(0, o_.keep_marker ? at + o_.marker.size() : at);
  }

  LikelihoodOptions o_;
};

VECRL_REGISTER(reward_registry(), "likelihood", (core::make_configured<RewardModule, LikelihoodOptions, Likelihood>));

}  // namespace
}  // namespace vecrl::rewards
