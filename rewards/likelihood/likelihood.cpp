// likelihood: how likely the sample's reference answer is after the generated reasoning, under the
// policy or the frozen reference model (algorithms.md §6). The response is cut at `marker` (the
// reasoning is what precedes it; the whole response when the marker is absent), then
// `answer_prefix` and the reference answer a* from `answer_field` follow. Dimensions: logprob,
// avg_logprob, prob, avg_prob (weight the ones you train on; log-prob is the paper's
// recommendation). With `loss_coef` > 0 the trainer also adds the Lemma-1 term, -R_theta(z) of
// the trained variants (always under the trained policy): an SFT term on a* for logprob, divided
// by |a*| for avg_logprob, scaled by p(a* | z) for prob. JEPO is the `jepo` advantage estimator
// over the logprob dimension; it weights the term by p_i / sum_j p_j within the group.
#include <torch/types.h>

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

at::Tensor likelihood_loss_rows(const at::Tensor& token_logprobs, const at::Tensor& mask,
                                const AnswerLikelihoodWeights& w) {
  auto m = mask.to(token_logprobs.scalar_type());
  auto length = m.sum(1);                                         // [B] |a*|
  auto has_answer = length > 0;
  auto logprob = (token_logprobs * m).sum(1);                     // [B]
  auto per_token = length.clamp_min(1);
  auto loss = torch::zeros_like(logprob);
  if (w.logprob != 0) loss = loss - w.logprob * logprob;
  if (w.avg_logprob != 0) loss = loss - w.avg_logprob * logprob / per_token;
  if (w.prob != 0) loss = loss - w.prob * logprob.exp();
  if (w.avg_prob != 0) loss = loss - w.avg_prob * (token_logprobs.exp() * m).sum(1) / per_token;
  return torch::where(has_answer, loss, torch::zeros_like(loss));
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
  double loss_coef = 0;  // > 0 adds coef · (−log p(a* | p, z)) to the policy loss (Lemma 1)

  template <class V>
  void visit(V& v) {
    v.field("answer_field", answer_field);
    v.field("marker", marker);
    v.field("keep_marker", keep_marker);
    v.field("answer_prefix", answer_prefix);
    v.choice("model", model, {{"policy", ScoringModel::kPolicy}, {"reference", ScoringModel::kReference}});
    v.field("batch_size", batch_size);
    v.field("loss_coef", loss_coef);
    v.require(loss_coef >= 0, "loss_coef", core::str_cat("must be >= 0, got ", loss_coef));
    v.require(batch_size >= 1, "batch_size", core::str_cat("must be >= 1, got ", batch_size));
  }
};

class Likelihood : public RewardModule {
 public:
  explicit Likelihood(LikelihoodOptions o) : o_(std::move(o)) {}

  std::vector<RewardDim> dims() const override {
    return {{"logprob", -INFINITY, 0}, {"avg_logprob", -INFINITY, 0, 0}, {"prob", 0, 1, 0}, {"avg_prob", 0, 1, 0}};
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
    std::vector<std::vector<int64_t>> contexts, targets;
    std::vector<std::pair<int64_t, int64_t>> cells;
    build_rows(batch, tok, /*first_answer_only=*/false, contexts, targets, cells);
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

  bool has_loss_term() const override { return o_.loss_coef > 0; }

  AnswerLikelihoodTerm loss_term(const ScoreBatch& batch, const std::vector<double>& dim_weights) const override {
    VECRL_CHECK(dim_weights.size() == 4, "likelihood: ", dim_weights.size(), " weights for its 4 dimensions");
    VECRL_CHECK(batch.models && batch.models->tokenizer, "likelihood: the loss term needs the model's tokenizer");
    const auto& tok = *batch.models->tokenizer;
    std::vector<std::vector<int64_t>> contexts, targets;
    std::vector<std::pair<int64_t, int64_t>> cells;
    build_rows(batch, tok, /*first_answer_only=*/true, contexts, targets, cells);
    const int64_t n = batch.rollouts.size();
    // One row per rollout; a rollout without an answer slot gets an empty (fully masked) answer.
    // A one-token placeholder context: BOS, or EOS for models without one (Qwen).
    std::vector<std::vector<int64_t>> row_context(n, {tok.bos_id() >= 0 ? tok.bos_id() : tok.eos_id()}), row_answer(n);
    for (std::size_t k = 0; k < cells.size(); ++k) {
      row_context[cells[k].first] = contexts[k];
      row_answer[cells[k].first] = targets[k];
    }
    AnswerLikelihoodTerm term;
    term.coef = o_.loss_coef;
    term.weights = {dim_weights[0], dim_weights[1], dim_weights[2], dim_weights[3]};
    std::tie(term.context_ids, term.context_mask) = models::left_pad(row_context, tok.eos_id());
    std::size_t longest = 1;
    for (const auto& a : row_answer) longest = std::max(longest, a.size());
    term.answer_ids = torch::full({n, static_cast<int64_t>(longest)}, tok.eos_id(), torch::kLong);
    term.answer_mask = torch::zeros({n, static_cast<int64_t>(longest)}, torch::kBool);
    for (int64_t i = 0; i < n; ++i) {
      if (row_answer[i].empty()) continue;
      const auto len = static_cast<int64_t>(row_answer[i].size());
      term.answer_ids[i].narrow(0, 0, len).copy_(torch::tensor(row_answer[i]));
      term.answer_mask[i].narrow(0, 0, len).fill_(true);
    }
    return term;
  }

 private:
  // Rows (rollout, answer): context = the rollout's prompt tokens ++ reasoning ++ prefix, target = a*.
  void build_rows(const ScoreBatch& batch, const models::Tokenizer& tok, bool first_answer_only,
                  std::vector<std::vector<int64_t>>& contexts, std::vector<std::vector<int64_t>>& targets,
                  std::vector<std::pair<int64_t, int64_t>>& cells) const {
    const auto& rollouts = batch.rollouts;
    auto prompt_mask = rollouts.prompt_mask.to(torch::kCPU);
    auto prompt_ids = rollouts.prompt_ids.to(torch::kCPU);
    for (int64_t i = 0; i < rollouts.size(); ++i) {
      const std::string reference = record_string(rollouts.samples[i], o_.answer_field, "likelihood");
      auto prompt = prompt_ids[i].masked_select(prompt_mask[i]);
      std::vector<int64_t> prompt_tokens(prompt.data_ptr<int64_t>(), prompt.data_ptr<int64_t>() + prompt.numel());
      const auto answers = static_cast<int64_t>(batch.answers[i].size());
      for (int64_t j = 0; j < (first_answer_only ? std::min<int64_t>(1, answers) : answers); ++j) {
        std::vector<int64_t> context = prompt_tokens;
        for (auto id : tok.encode(reasoning(batch.answers[i][j]) + o_.answer_prefix)) context.push_back(id);
        contexts.push_back(std::move(context));
        targets.push_back(tok.encode(reference));
        VECRL_CHECK(!targets.back().empty(), "likelihood: reference answer '", reference, "' has no tokens");
        cells.emplace_back(i, j);
      }
    }
  }

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
