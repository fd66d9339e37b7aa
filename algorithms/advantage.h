#pragma once
// Advantage estimators turn a reward matrix into per-rollout (or per-token) advantages. One file
// per estimator, registered by name at its bottom:
//   VECRL_REGISTER(advantage_registry(), "grpo", (core::make_configured<AdvantageEstimator, Opts, Impl>));
// Legend: N rollouts (P groups of G, contiguous), M answers per rollout, K reward dimensions,
// T response tokens.
#include <functional>
#include <string>
#include <vector>

#include "core/batch.h"
#include "core/config.h"
#include "core/registry.h"

namespace vecrl::algorithms {

struct AdvantageInput {
  const core::RewardMatrix& rewards;  // [N, M, K]
  std::vector<double> weights;        // K weights of the reward dimensions
  int64_t group_size = 1;             // G; rollouts of a group are contiguous
  at::Tensor response_mask;           // [N, T] bool; needed by token-level estimators (REINFORCE++)
  // Sums a tensor over all data-parallel ranks in place; batch-level statistics (GDPO's second
  // normalisation, REINFORCE++ whitening) go through it. Empty = one process.
  std::function<void(at::Tensor&)> all_reduce_sum;

  int64_t num_groups() const { return rewards.rollouts() / group_size; }
  // Sums `t` across ranks when distributed.
  at::Tensor global_sum(at::Tensor t) const;
};

class AdvantageEstimator {
 public:
  virtual ~AdvantageEstimator() = default;
  virtual core::Advantages compute(const AdvantageInput& input) const = 0;
  // State carried across steps (VPO's weight generator), saved in checkpoints so a resumed run
  // continues exactly; empty for stateless estimators.
  virtual std::string state() const { return {}; }
  virtual void restore(const std::string& state) {}
};

using AdvantageRegistry = core::Registry<AdvantageEstimator, core::ConfigNode&>;
// Factories read their own options from the `advantage:` section and must call node.finish().
AdvantageRegistry& advantage_registry();

// Checks shapes and weights against the input; throws naming what is wrong.
void check_input(const AdvantageInput& input);

// The weighted scalar reward of answer 0 of each rollout, r [N] = sum_k w_k r_k, and whether
// every dimension with a non-zero weight is valid, valid [N]. Invalid rows are excluded from
// statistics by every estimator (and get advantage 0), never counted as 0.
std::pair<at::Tensor, at::Tensor> weighted_scalar_reward(const AdvantageInput& input);

// Mean and variance (ddof 0 or 1) of `values` over the entries where `mask` is 1, summed across
// all ranks through input.all_reduce_sum. Shapes of values and mask must agree.
struct BatchMoments {
  double mean = 0;
  double var = 0;
};
BatchMoments global_moments(const AdvantageInput& input, const at::Tensor& values, const at::Tensor& mask, double ddof);

// Resolves a dimension by exact name, or by module name when "<name>/..." matches exactly one.
int64_t find_dimension(const core::RewardMatrix& rewards, const std::string& name);

}  // namespace vecrl::algorithms
