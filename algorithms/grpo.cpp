// GRPO (DeepSeekMath, arXiv 2402.03300) on the weighted reward r = sum_k w_k r_k:
//   A_i = (r_i - mean_group(r)) / (std_group(r) + eps)      (normalize_std: true)
//   A_i =  r_i - mean_group(r)                               (normalize_std: false, Dr. GRPO's advantage)
// Rollouts whose weighted dimensions are not all valid are left out of the group statistics and get
// A = 0. A group of one (G = 1) or with one valid rollout gets A = 0 (verl instead returns A = r; we
// choose 0 because a lone sample has no baseline — algorithms.md §1.1).
#include <ATen/ATen.h>

#include "algorithms/advantage.h"
#include "algorithms/group_stats.h"

namespace vecrl::algorithms {
namespace {

struct GrpoOptions {
  bool normalize_std = true;
  StdKind std = StdKind::kUnbiased;
  double eps = 1e-6;

  template <class V>
  void visit(V& v) {
    v.field("normalize_std", normalize_std);
    v.choice("std", std, {{"unbiased", StdKind::kUnbiased}, {"population", StdKind::kPopulation}});
    v.field("eps", eps);
    v.require(eps >= 0, "eps", core::str_cat("must be >= 0, got ", eps));
  }
};

class Grpo : public AdvantageEstimator {
 public:
  explicit Grpo(GrpoOptions options) : options_(options) {}

  core::Advantages compute(const AdvantageInput& input) const override {
    auto [reward, valid] = weighted_scalar_reward(input);  // [N], [N]
    const int64_t G = input.group_size, P = reward.size(0) / G;
    auto r = reward.view({P, G});
    auto ok = valid.view({P, G});
    auto stats = group_stats(r, ok, options_.std);
    auto centered = r.to(at::kDouble) - stats.mean;
    auto adv = options_.normalize_std ? centered / (stats.std + options_.eps) : centered;
    adv = at::where(ok.logical_and(stats.count > 1), adv, at::zeros_like(adv));
    return {{"primary"}, adv.to(at::kFloat).reshape({1, P * G})};
  }

 private:
  GrpoOptions options_;
};

VECRL_REGISTER(advantage_registry(), "grpo", (core::make_configured<AdvantageEstimator, GrpoOptions, Grpo>));

}  // namespace
}  // namespace vecrl::algorithms
