#include "algorithms/advantage.h"

#include <ATen/ATen.h>

namespace vecrl::algorithms {

AdvantageRegistry& advantage_registry() {
  static AdvantageRegistry registry("advantage estimator");
  return registry;
}

std::pair<at::Tensor, at::Tensor> weighted_scalar_reward(const AdvantageInput& input) {
  const auto& r = input.rewards;
  r.check();
  VECRL_CHECK(static_cast<int64_t>(input.weights.size()) == r.dims(), "advantage: ", input.weights.size(),
              " weights for ", r.dims(), " reward dimensions");
  VECRL_CHECK(input.group_size >= 1 && r.rollouts() % input.group_size == 0, "advantage: ", r.rollouts(),
              " rollouts do not split into groups of ", input.group_size);
  auto w = at::tensor(input.weights, at::kDouble).to(at::kFloat);  // [K]
  auto values = r.values.select(1, 0);                              // [N, K]
  auto used = (w != 0).unsqueeze(0);                                // [1, K]
  auto valid = r.valid.select(1, 0).logical_or(used.logical_not()).all(1);  // [N]
  auto scalar = (values.masked_fill(r.valid.select(1, 0).logical_not(), 0) * w).sum(1);
  return {scalar, valid};
}

}  // namespace vecrl::algorithms
