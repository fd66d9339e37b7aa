// RLOO (arXiv 2402.14740; verl compute_rloo_outcome_advantage, algorithms.md §1.4): the baseline
// of each rollout is the mean of the other valid rollouts of its group,
//   A_i = r_i - (1/(n-1)) sum_{j != i} r_j = n/(n-1) (r_i - mean).
// r is the KL-penalised total when kl_in_reward is on. Invalid rows and groups with fewer than two
// valid rollouts get A = 0 (verl leaves A = r for G = 1).
#include <ATen/ATen.h>

#include "algorithms/advantage.h"

namespace vecrl::algorithms {
namespace {

struct RlooOptions {
  template <class V>
  void visit(V&) {}
};

class Rloo : public AdvantageEstimator {
 public:
  explicit Rloo(RlooOptions) {}

  core::Advantages compute(const AdvantageInput& input) const override {
    auto [reward, valid] = weighted_scalar_reward(input);
    const int64_t G = input.group_size, P = input.num_groups();
    auto r = reward.view({P, G}).to(at::kDouble);
    auto m = valid.view({P, G}).to(at::kDouble);
    auto n = m.sum(1, true);
    auto total = (r * m).sum(1, true);
    auto adv = r - (total - r) / (n - 1).clamp_min(1);
    adv = at::where(valid.view({P, G}).logical_and(n > 1), adv, at::zeros_like(adv));
    return core::Advantages::single(adv.reshape({P * G}));
  }

  KlInReward kl_in_reward() const override { return KlInReward::kOnCombinedReward; }
};

VECRL_REGISTER(advantage_registry(), "rloo", (core::make_configured<AdvantageEstimator, RlooOptions, Rloo>));

}  // namespace
}  // namespace vecrl::algorithms
