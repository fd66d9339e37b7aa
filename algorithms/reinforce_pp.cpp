// REINFORCE++ (arXiv 2501.03262; verl, algorithms.md §1.5). The outcome reward sits on the last
// response token, returns are G_t = sum_{s >= t} gamma^{s-t} r_s, and the advantages are whitened
// over every valid token of the batch (all ranks): A = (G - mean) / sqrt(var + 1e-8), Bessel var.
//   reinforce_pp          — r is the weighted reward;
//   reinforce_pp_baseline — r is the weighted reward minus its group mean, then the same whitening.
// A KL penalty "in the reward" enters as an extra reward dimension added by the trainer.
// Rows with invalid weighted dimensions get A = 0 and do not enter the whitening statistics.
#include <ATen/ATen.h>

#include "algorithms/advantage.h"
#include "algorithms/group_stats.h"

namespace vecrl::algorithms {
namespace {

struct ReinforcePpOptions {
  double gamma = 1.0;
  double eps = 1e-8;

  template <class V>
  void visit(V& v) {
    v.field("gamma", gamma);
    v.field("eps", eps);
    v.require(gamma > 0 && gamma <= 1, "gamma", core::str_cat("must be in (0, 1], got ", gamma));
    v.require(eps >= 0, "eps", core::str_cat("must be >= 0, got ", eps));
  }
};

template <bool kGroupBaseline>
class ReinforcePp : public AdvantageEstimator {
 public:
  explicit ReinforcePp(ReinforcePpOptions options) : options_(options) {}

  core::Advantages compute(const AdvantageInput& input) const override {
    auto [reward, valid] = weighted_scalar_reward(input);  // [N]
    VECRL_CHECK(input.response_mask.defined() && input.response_mask.dim() == 2 &&
                    input.response_mask.size(0) == reward.size(0),
                "reinforce_pp needs the response mask [N, T]");
    const int64_t G = input.group_size, P = input.num_groups(), N = reward.size(0);
    auto r = reward.to(at::kDouble);
    if (kGroupBaseline) {
      auto stats = group_stats(r.view({P, G}), valid.view({P, G}), StdKind::kPopulation);
      r = (r.view({P, G}) - stats.mean).reshape({N});
    }
    auto mask = input.response_mask.to(at::kDouble) * valid.to(at::kDouble).unsqueeze(1);  // [N, T]
    // Distance of each token from the last valid token of its row: return = gamma^distance * r.
    auto lengths = mask.sum(1, true);
    auto position = mask.cumsum(1) - 1;
    auto distance = (lengths - 1 - position).clamp_min(0);
    auto returns = at::pow(options_.gamma, distance) * r.unsqueeze(1) * mask;
    const auto batch = global_moments(input, returns, mask, /*ddof=*/1.0);
    auto adv = (returns - batch.mean) / std::sqrt(batch.var + options_.eps) * mask;  // [N, T]
    core::Advantages out;
    out.channels = {"primary"};
    out.token_values = adv.to(at::kFloat).unsqueeze(0);
    out.values = (adv.sum(1) / lengths.squeeze(1).clamp_min(1)).to(at::kFloat).unsqueeze(0);
    return out;
  }

 private:
  ReinforcePpOptions options_;
};

VECRL_REGISTER(advantage_registry(), "reinforce_pp",
               (core::make_configured<AdvantageEstimator, ReinforcePpOptions, ReinforcePp<false>>));
VECRL_REGISTER(advantage_registry(), "reinforce_pp_baseline",
               (core::make_configured<AdvantageEstimator, ReinforcePpOptions, ReinforcePp<true>>));

}  // namespace
}  // namespace vecrl::algorithms
