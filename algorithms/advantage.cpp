#include "algorithms/advantage.h"

#include <ATen/ATen.h>

namespace vecrl::algorithms {

AdvantageRegistry& advantage_registry() {
  static AdvantageRegistry registry("advantage estimator");
  return registry;
}

at::Tensor AdvantageInput::global_sum(at::Tensor t) const {
  if (all_reduce_sum) all_reduce_sum(t);
  return t;
}

void check_input(const AdvantageInput& input) {
  const auto& r = input.rewards;
  r.check();
  VECRL_CHECK(static_cast<int64_t>(input.weights.size()) == r.dims(), "advantage: ", input.weights.size(),
              " weights for ", r.dims(), " reward dimensions");
  VECRL_CHECK(input.group_size >= 1 && r.rollouts() % input.group_size == 0, "advantage: ", r.rollouts(),
              " rollouts do not split into groups of ", input.group_size);
  VECRL_CHECK(!at::isnan(r.values).logical_and(r.valid).any().item<bool>() &&
                  !at::isinf(r.values).logical_and(r.valid).any().item<bool>(),
              "advantage: a valid reward is NaN or infinite");
}

std::pair<at::Tensor, at::Tensor> weighted_scalar_reward(const AdvantageInput& input) {
  check_input(input);
  const auto& r = input.rewards;
  auto w = at::tensor(input.weights, at::kDouble).to(at::kFloat);     // [K]
  auto values = r.values.select(1, 0);                                 // [N, K]
  auto valid_k = r.valid.select(1, 0);                                 // [N, K]
  auto used = (w != 0).unsqueeze(0);                                   // [1, K]
  auto valid = valid_k.logical_or(used.logical_not()).all(1);          // [N]
  auto scalar = (values.masked_fill(valid_k.logical_not(), 0) * w).sum(1);
  return {scalar, valid};
}

BatchMoments global_moments(const AdvantageInput& input, const at::Tensor& values, const at::Tensor& mask,
                            double ddof) {
  auto v = values.to(at::kDouble), m = mask.to(at::kDouble);
  auto sums = input.global_sum(at::stack({(v * m).sum(), (v.pow(2) * m).sum(), m.sum()}));
  const double n = sums[2].item<double>();
  BatchMoments out;
  out.mean = n > 0 ? sums[0].item<double>() / n : 0.0;
  out.var = n > ddof ? std::max(0.0, sums[1].item<double>() - n * out.mean * out.mean) / (n - ddof) : 0.0;
  return out;
}

int64_t find_dimension(const core::RewardMatrix& rewards, const std::string& name) {
  int64_t found = -1, matches = 0;
  for (int64_t k = 0; k < rewards.dims(); ++k) {
    if (rewards.names[k] == name) return k;
    if (rewards.names[k].rfind(name + "/", 0) == 0) {
      found = k;
      ++matches;
    }
  }
  if (matches == 1) return found;
  return rewards.index_of(name);  // throws listing the dimensions
}

}  // namespace vecrl::algorithms
