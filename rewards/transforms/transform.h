#pragma once
// Reward transforms reshape one module's values before the estimator sees them (algorithms.md §9):
// `transforms:` on a `rewards:` entry lists them, applied in order. One file per transform,
// registered by name: VECRL_REGISTER(transform_registry(), "par", factory).
#include <vector>

#include "core/batch.h"
#include "core/config.h"
#include "core/registry.h"
#include "rewards/reward_module.h"

namespace vecrl::rewards {

struct TransformContext {
  const core::Rollouts& rollouts;
  const std::vector<RewardDim>& bounds;  // the module's declared dimensions, in K order
  const core::RewardMatrix& earlier;     // dimensions of the modules listed before this one
};

class RewardTransform {
 public:
  virtual ~RewardTransform() = default;
  // Rewrites part.values (and may clear part.valid) in place; part is [N, M, K] for one module.
  virtual void apply(core::RewardMatrix& part, const TransformContext& context) const = 0;
};

using TransformRegistry = core::Registry<RewardTransform, core::ConfigNode&>;
TransformRegistry& transform_registry();

// Reference rewards [N, R] (NaN-padded) for PAR/LSC: a fixed list from the config, or per sample a
// number or list of numbers in dataset field `field`.
at::Tensor reference_rewards(const core::Rollouts& rollouts, const std::vector<double>& fixed, const std::string& field,
                             const char* transform);

}  // namespace vecrl::rewards
