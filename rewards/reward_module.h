#pragma once
// Reward modules score rollouts as vectors: named dimensions with declared bounds, values
// [N, M, K] and a `valid` mask. One file per module, registered by name at its bottom:
// VECRL_REGISTER(reward_registry(), "contains_word", factory).
#include <functional>
#include <string>
#include <vector>

#include "core/batch.h"
#include "core/config.h"
#include "core/registry.h"

namespace vecrl::rewards {

struct RewardDim {
  std::string name;
  double low = 0.0;
  double high = 1.0;
};

class RewardModule {
 public:
  virtual ~RewardModule() = default;
  virtual std::vector<RewardDim> dims() const = 0;
  // Returns [N, 1, K] values with K = dims().size(); names are filled in by the RewardSet.
  virtual core::RewardMatrix score(const core::Rollouts& rollouts) const = 0;
};

using RewardRegistry = core::Registry<RewardModule, core::ConfigNode&>;
// Factories read their module's options and must call node.finish().
RewardRegistry& reward_registry();

// A one-dimensional score computed rollout by rollout: values [N, 1, 1], all valid.
core::RewardMatrix score_each(const core::Rollouts& rollouts, const std::function<double(int64_t)>& score);

// Reads a string field of a dataset record, with a message naming the field when it is missing.
std::string record_string(const nlohmann::json& record, const std::string& field, const std::string& module);

}  // namespace vecrl::rewards
