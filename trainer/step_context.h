#pragma once
// What one RL step carries from stage to stage (trainer/rl_trainer.cpp):
//   sample -> log-probs -> advantages -> update -> metrics.
// Everything is this rank's share of the global batch. Legend: N rollouts (P groups of G),
// T response tokens, M answers per rollout, K reward dimensions, C advantage channels.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "core/batch.h"
#include "core/metrics.h"
#include "rewards/reward_module.h"

namespace vecrl::trainer {

struct StepContext {
  int64_t step = 0;
  core::Rollouts rollouts;
  core::RewardMatrix rewards;         // [N, M, K] the task rewards as scored
  std::vector<double> weights;        // [K] the reward set's weights
  // [N] bool: rows of groups that only fill the batch up (dynamic sampling found too few groups
  // with signal). They get no advantage, no loss and no part in any estimator statistic.
  at::Tensor top_up;
  std::vector<uint64_t> group_keys;   // [P] each group's sampling seed (keys per-group randomness)
  at::Tensor old_logprobs;            // [N, T] the policy before the update
  at::Tensor ref_logprobs;            // [N, T] the reference model; undefined without one
  at::Tensor token_penalty;           // [N, T] KL in the reward, coef * k per token; undefined when off
  core::Advantages advantages;        // [C, N] (and [C, N, T] for token-level estimators)
  at::Tensor likelihood_weights;      // [N] weights of the reward loss terms (JEPO); undefined = 1
  at::Tensor loss_mask;               // [N, T] bool, tokens that carry loss
  std::vector<rewards::AnswerLikelihoodTerm> answer_terms;
  core::MetricMap metrics;

  int64_t size() const { return rollouts.size(); }
};

}  // namespace vecrl::trainer
