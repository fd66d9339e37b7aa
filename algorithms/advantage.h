#pragma once
// Advantage estimators turn a reward matrix into per-rollout advantages. One file per estimator,
// registered by name at its bottom: VECRL_REGISTER(advantage_registry(), "grpo", factory).
#include <vector>

#include "core/batch.h"
#include "core/config.h"
#include "core/registry.h"

namespace vecrl::algorithms {

struct AdvantageInput {
  const core::RewardMatrix& rewards;  // [N, M, K]
  std::vector<double> weights;        // K weights of the reward dimensions
  int64_t group_size = 1;             // G; rollouts of a group are contiguous
};

class AdvantageEstimator {
 public:
  virtual ~AdvantageEstimator() = default;
  virtual core::Advantages compute(const AdvantageInput& input) const = 0;
};

using AdvantageRegistry = core::Registry<AdvantageEstimator, core::ConfigNode&>;
// Factories read their own options from the `advantage:` section and must call node.finish().
AdvantageRegistry& advantage_registry();

// The weighted scalar reward of answer 0 of each rollout: r [N] and whether every dimension with a
// non-zero weight is valid: valid [N]. Invalid rows are excluded from group statistics.
std::pair<at::Tensor, at::Tensor> weighted_scalar_reward(const AdvantageInput& input);

}  // namespace vecrl::algorithms
