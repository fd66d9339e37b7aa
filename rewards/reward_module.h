#pragma once
// Reward modules score rollouts as vectors: named dimensions with declared bounds, values
// [N, M, K] and a `valid` mask. One file per module, registered by name at its bottom:
// VECRL_REGISTER(reward_registry(), "math", factory).
//
// Most modules judge one piece of text at a time and derive from TextRewardModule: the framework
// then runs the texts on a worker pool, and a text whose scoring throws is marked not-valid on its
// own (counted, logged once per batch) without touching the other rollouts.
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/batch.h"
#include "core/config.h"
#include "core/registry.h"

namespace vecrl::models {
class CausalLMImpl;
class Tokenizer;
}  // namespace vecrl::models

namespace vecrl::rewards {

// The models a module may score with (likelihood rewards, a local judge). Set by the trainer (the
// live policy and the frozen reference) or by `vecrl reward --model`; members are null when absent.
struct ScoringModels {
  std::shared_ptr<models::CausalLMImpl> policy;
  std::shared_ptr<models::CausalLMImpl> reference;
  const models::Tokenizer* tokenizer = nullptr;
};

struct RewardDim {
  std::string name;
  double low = 0.0;
  double high = 1.0;
  // The dimension's share of the entry's `weight` unless `dim_weights` says otherwise: 0 for
  // diagnostics (math/extracted, ifeval's per-instruction verdicts) that are reported, not trained on.
  double weight = 1.0;
};

// What a module scores: the rollouts, and for each rollout the M answers cut from its response
// (M = 1 and the whole response when no splitter is configured; a rollout with fewer answers than
// M has empty trailing slots, which are scored not-valid).
struct ScoreBatch {
  const core::Rollouts& rollouts;
  std::vector<std::vector<std::string>> answers;  // [N][<= M]
  int64_t answers_per_rollout = 1;                // M
  int workers = 1;                                // threads a module may use for this batch
  bool token_counts = true;  // response_mask gives the response lengths (false: `vecrl reward` without them)
  const ScoringModels* models = nullptr;
  // Set when the caller abandons the batch (its deadline passed): a module stops starting work and
  // kills what it runs (sandboxed programs) so that nothing outlives the batch.
  const std::atomic<bool>* cancel = nullptr;

  bool cancelled() const { return cancel != nullptr && cancel->load(); }

  // The whole responses as answers (M = 1).
  static ScoreBatch whole_responses(const core::Rollouts& rollouts, int workers = 1);
};

// One text to score, with its context.
struct TextItem {
  const std::string& prompt;
  const std::string& text;          // the answer (the whole response unless a splitter is set)
  const nlohmann::json& sample;     // the dataset record (reference answers, tests, rubrics, ...)
  bool truncated = false;           // the response hit max_new_tokens
  int64_t response_tokens = 0;      // tokens in the whole response; -1 when unknown
  int64_t rollout = 0;              // row in the batch
  int64_t answer = 0;               // answer slot in [0, M)
  const ScoringModels* models = nullptr;
};

// The reward's own gradient (Lemma 1 of arXiv 2602.03979): when a reward depends on the policy's
// parameters, grad J = E[R grad log pi(z)] + E[grad R(z)], so the loss gets a term -R_theta(z) per
// rollout besides the policy-gradient term. For the likelihood rewards of a reference answer a*
// given the rollout's reasoning z, R_theta is a function of the per-token log-probs of a*:
//   logprob  sum_t lp_t;  avg_logprob  sum_t lp_t / |a*|;  prob  exp(sum_t lp_t);  avg_prob  mean_t exp(lp_t),
// weighted as the trained reward weights them.
struct AnswerLikelihoodWeights {
  double logprob = 0, avg_logprob = 0, prob = 0, avg_prob = 0;
};

// A term a module adds to the policy loss: coef · mean over the rollouts of
// −sum_v weights_v R_v(a* | context), computed by the trainer under the live policy.
struct AnswerLikelihoodTerm {
  std::string name;
  double coef = 0;
  AnswerLikelihoodWeights weights;
  at::Tensor context_ids, context_mask;  // [N, L] int64 / bool, left-padded
  at::Tensor answer_ids, answer_mask;    // [N, A] int64 / bool, right-padded
};

class RewardModule {
 public:
  virtual ~RewardModule() = default;
  virtual std::vector<RewardDim> dims() const = 0;
  // Returns values and valid of shape [N, M, K] with K = dims().size(); names are filled in by the
  // RewardSet. May throw: the RewardSet then marks the whole module not-valid for the batch.
  virtual core::RewardMatrix score(const ScoreBatch& batch) const = 0;
  // Texts this module failed to score so far (each marked not-valid).
  virtual int64_t failed_texts() const { return 0; }
  // Whether the module scores with the frozen reference model (so the trainer loads one).
  virtual bool needs_reference() const { return false; }
  // Whether it adds a term to the loss, and that term for a batch (answer slot 0 of each rollout);
  // dim_weights are the trained weights of this module's dims() (entry weight times share).
  virtual bool has_loss_term() const { return false; }
  virtual AnswerLikelihoodTerm loss_term(const ScoreBatch& batch, const std::vector<double>& dim_weights) const;
  // The shortest batch deadline that can work: one item's own time limit (a code program's
  // timeout_s, a judge request's timeout_s); 0 when the module has none.
  virtual double item_time_limit_s() const { return 0; }
};

class TextRewardModule : public RewardModule {
 public:
  // K values for one text; throw to mark this text's dimensions not-valid; return NaN for a
  // dimension that does not apply to this text (it is marked not-valid, the others stay valid).
  virtual std::vector<double> score_text(const TextItem& item) const = 0;
  core::RewardMatrix score(const ScoreBatch& batch) const override;
  int64_t failed_texts() const override { return failed_texts_; }

 private:
  mutable std::atomic<int64_t> failed_texts_{0};
};

using RewardRegistry = core::Registry<RewardModule, core::ConfigNode&>;
// Factories read their module's options and must call node.finish().
RewardRegistry& reward_registry();

// item.response_tokens, or an error naming the module when the count is unknown.
int64_t require_token_count(const TextItem& item, const char* module);

// Reads a field of a dataset record, with a message naming the field and module when it is missing
// or has another type.
std::string record_string(const nlohmann::json& record, const std::string& field, const std::string& module);
const nlohmann::json& record_field(const nlohmann::json& record, const std::string& field, const std::string& module);

}  // namespace vecrl::rewards
