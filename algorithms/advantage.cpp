#include "algorithms/advantage.h"

#include <ATen/ATen.h>

#include "algorithms/group_stats.h"

namespace vecrl::algorithms {

AdvantageRegistry& advantage_registry() {
  static AdvantageRegistry registry("advantage estimator");
  return registry;
}

at::Tensor AdvantageInput::global_sum(at::Tensor t) const {
  if (all_reduce_sum) all_reduce_sum(t);
  return t;
}

at::Tensor AdvantageInput::sequence_penalty() const {
  if (!token_penalty.defined()) return at::zeros({rewards.rollouts()}, at::kDouble);
  return token_penalty.to(at::kDouble).sum(1);
}

uint64_t AdvantageInput::group_key(int64_t p) const {
  return group_keys.empty() ? static_cast<uint64_t>(p) : group_keys[static_cast<std::size_t>(p)];
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
  VECRL_CHECK(input.group_keys.empty() || static_cast<int64_t>(input.group_keys.size()) == input.num_groups(),
              "advantage: ", input.group_keys.size(), " group keys for ", input.num_groups(), " groups");
  if (input.token_penalty.defined()) {
    VECRL_CHECK(input.token_penalty.dim() == 2 && input.token_penalty.size(0) == r.rollouts(),
                "advantage: the KL penalty has shape ", input.token_penalty.sizes(), " for ", r.rollouts(),
                " rollouts");
    VECRL_CHECK(input.token_penalty.isfinite().all().item<bool>(), "advantage: the KL penalty is not finite");
  }
}

void reject_penalty(const AdvantageInput& input, const char* estimator) {
  VECRL_CHECK(!input.token_penalty.defined(), estimator,
              " has no defined meaning for a KL penalty in the reward (kl_in_reward.coef > 0); use loss.kl_coef");
}

std::pair<at::Tensor, at::Tensor> weighted_scalar_reward(const AdvantageInput& input) {
  check_input(input);
  auto total = core::weighted_total(input.rewards, input.weights);
  auto valid = total.valid.select(1, 0);                                  // [N]
  auto scalar = total.values.select(1, 0) - input.sequence_penalty();     // [N]
  return {at::where(valid, scalar, at::zeros_like(scalar)), valid};
}

at::Tensor varies_in_group(const at::Tensor& values, const at::Tensor& valid) {
  auto stats = group_stats(values, valid, StdKind::kPopulation);
  return (stats.std > 1e-8).logical_and(stats.count > 1).squeeze(1);
}

at::Tensor AdvantageEstimator::group_has_signal(const AdvantageInput& input) const {
  check_input(input);
  auto total = core::weighted_total(input.rewards, input.weights);
  const int64_t P = input.num_groups(), G = input.group_size;
  return varies_in_group(total.values.select(1, 0).view({P, G}), total.valid.select(1, 0).view({P, G}));
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
