// DVAO (arXiv 2605.25604, algorithms.md §3), closed form with population std:
//   A_i = sum_k w_k (r_k(i) - mu_k) / S,   S = sum_k w_k sigma_k,
// equal to sum_k w~_k z_k with dynamic weights w~_k = w_k sigma_k / S. Decisions the paper leaves
// open (§3 edge cases): a group with fewer than two valid rollouts or S <= eps gets A = 0; rows with
// an invalid weighted dimension are left out of mu and sigma and get A = 0. Rewards are expected in
// [0, 1] (use reward bounds / transforms); DVAO is not scale invariant.
// KL in the reward is a term on the combined reward r_sum = sum_k w_k r_k: the numerator becomes
// r_sum - pen - mean(r_sum - pen), while S (the task rewards' spread) is unchanged, so the bounded
// rewards DVAO's weights assume stay bounded; a group with S <= eps still gets A = 0.
#include <ATen/ATen.h>

#include "algorithms/multi_reward.h"

namespace vecrl::algorithms {
namespace {

struct DvaoOptions {
  double eps = 1e-8;

  template <class V>
  void visit(V& v) {
    v.field("eps", eps);
    v.require(eps >= 0, "eps", core::str_cat("must be >= 0, got ", eps));
  }
};

class Dvao : public AdvantageEstimator {
 public:
  explicit Dvao(DvaoOptions options) : options_(options) {}

  core::Advantages compute(const AdvantageInput& input) const override {
    auto view = dimension_view(input);
    const int64_t P = view.values.size(0), G = view.values.size(1), K = view.values.size(2);
    auto numerator = at::zeros({P, G}, at::kDouble);
    auto S = at::zeros({P, 1}, at::kDouble);
    at::Tensor count;
    for (int64_t k = 0; k < K; ++k) {
      const double w = view.weights[k].item<double>();
      auto stats = group_stats(view.values.select(2, k), view.row_valid, StdKind::kPopulation);
      count = stats.count;
      if (w == 0) continue;
      numerator = numerator + w * (view.values.select(2, k) - stats.mean);
      S = S + w * stats.std;
    }
    if (input.token_penalty.defined()) {
      auto penalty = input.sequence_penalty().view({P, G});
      numerator = numerator - (penalty - group_stats(penalty, view.row_valid, StdKind::kPopulation).mean);
    }
    auto ok = view.row_valid.logical_and(S > options_.eps).logical_and(count > 1);
    auto adv = at::where(ok, numerator / S.clamp_min(options_.eps > 0 ? options_.eps : 1e-300), at::zeros_like(numerator));
    return core::Advantages::single(adv.reshape({-1}));
  }

  KlInReward kl_in_reward() const override { return KlInReward::kOnCombinedReward; }

 private:
  DvaoOptions options_;
};

VECRL_REGISTER(advantage_registry(), "dvao", (core::make_configured<AdvantageEstimator, DvaoOptions, Dvao>));

}  // namespace
}  // namespace vecrl::algorithms
