#pragma once
// Several reward modules composed as configured in `rewards:`; each entry has a `type`, an
// optional `name` (default: the type), a `weight` applied to each of its dimensions, optional
// `transforms` (rewards/transforms/), `timeout_s` (600: a module call running longer marks its
// dimensions not-valid for the batch and the run goes on), and the module's own options. Dimensions are named
// "<name>/<dim>". The `scoring:` section sets the worker threads and the multi-answer splitter.
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/metrics.h"
#include "rewards/reward_module.h"
#include "rewards/scoring_options.h"
#include "rewards/transforms/transform.h"

namespace vecrl::rewards {

// The answers [<= max_answers] cut from `response`; the whole response when the splitter is off.
std::vector<std::string> split_answers(const std::string& response, const SplitOptions& split);

class RewardSet {
 public:
  explicit RewardSet(std::vector<core::ComponentSpec> specs, ScoringOptions options = {});

  // Scores every module. A module that throws marks its dimensions not-valid for the batch (and is
  // counted in failures()) instead of ending the run; texts that fail alone are marked one by one.
  // `token_counts` = false when rollouts.response_mask does not hold the real response lengths.
  core::RewardMatrix score(const core::Rollouts& rollouts, bool token_counts = true);

  // Models for modules that score with one (likelihood, local judge); kept by the set.
  void set_models(ScoringModels models) { models_ = std::move(models); }
  bool needs_reference() const;
  // The loss terms of modules that add one (likelihood with loss_coef > 0), named "<name>".
  std::vector<AnswerLikelihoodTerm> loss_terms(const core::Rollouts& rollouts) const;

  const std::vector<std::string>& dim_names() const { return names_; }
  const std::vector<double>& weights() const { return weights_; }
  // Batches a module failed on plus texts that failed alone.
  int64_t failures() const;
  int64_t answers_per_rollout() const { return options_.split.enabled() ? options_.split.max_answers : 1; }

  // rewards/<name>/<dim>/{mean,std,valid_frac} over valid entries, and the weighted total's
  // critic/score/{mean,max,min}.
  static core::MetricMap metrics(const core::RewardMatrix& rewards, const std::vector<double>& weights);

 private:
  struct Entry {
    std::string name;
    double weight = 1.0;
    double deadline_s = 600;  // a batch not scored by then is not-valid (the call is abandoned)
    std::shared_ptr<RewardModule> module;  // shared with an abandoned call that may still run
    std::vector<RewardDim> dims;
    std::vector<std::unique_ptr<RewardTransform>> transforms;
  };
  std::vector<Entry> entries_;
  std::vector<std::string> names_;
  std::vector<double> weights_;
  ScoringOptions options_;
  ScoringModels models_;
  int64_t failures_ = 0;
};

}  // namespace vecrl::rewards
