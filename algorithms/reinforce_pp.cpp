// REINFORCE++ (arXiv 2501.03262; verl, algorithms.md §1.5). Token rewards r_t are the outcome
// (weighted) reward on the last response token minus the KL penalty of each token when kl_in_reward
// is on (verl's token_level_rewards), returns are G_t = sum_{s >= t} gamma^{s-t} r_s over the
// response tokens (positions outside response_mask, e.g. tool output, are skipped, not counted),
// and the advantages are whitened over every valid token of the batch (all ranks):
// A = (G - mean) / sqrt(var + 1e-8), Bessel var.
//   reinforce_pp          — as above: a token's return holds the penalties of it and later tokens;
//   reinforce_pp_baseline — r is the sequence's scalar reward (outcome minus summed penalty, as verl
//                           sums token_level_rewards) minus its group mean, then the same whitening.
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
    check_input(input);
    VECRL_CHECK(input.response_mask.defined() && input.response_mask.dim() == 2 &&
                    input.response_mask.size(0) == input.rewards.rollouts(),
                "reinforce_pp needs the response mask [N, T]");
    auto mask = input.response_mask.to(at::kDouble);  // [N, T]
    at::Tensor returns, valid;
    if (kGroupBaseline) {
      at::Tensor r;
      std::tie(r, valid) = weighted_scalar_reward(input);  // [N], the penalty already summed in
      const int64_t G = input.group_size, P = input.num_groups();
      auto stats = group_stats(r.view({P, G}), valid.view({P, G}), StdKind::kPopulation);
      mask = mask * valid.to(at::kDouble).unsqueeze(1);
      returns = (r.view({P, G}) - stats.mean).reshape({-1, 1}) * mask;
    } else {
      auto outcome = core::weighted_total(input.rewards, input.weights);
      valid = outcome.valid.select(1, 0);
      mask = mask * valid.to(at::kDouble).unsqueeze(1);
      returns = returns_to_go(token_rewards(input, outcome.values.select(1, 0), mask), mask, options_.gamma);
    }
    auto lengths = mask.sum(1, true);
    const auto batch = global_moments(input, returns, mask, /*ddof=*/1.0);
    auto adv = (returns - batch.mean) / std::sqrt(batch.var + options_.eps) * mask;  // [N, T]
    core::Advantages out;
    out.channels = {"primary"};
    out.token_values = adv.to(at::kFloat).unsqueeze(0);
    out.values = (adv.sum(1) / lengths.squeeze(1).clamp_min(1)).to(at::kFloat).unsqueeze(0);
    return out;
  }

  KlInReward kl_in_reward() const override {
    return kGroupBaseline ? KlInReward::kOnCombinedReward : KlInReward::kPerTokenReturn;
  }

 private:
  // r_t [N, T]: minus the token's KL penalty, plus the outcome on the row's last valid token.
  static at::Tensor token_rewards(const AdvantageInput& input, const at::Tensor& outcome, const at::Tensor& mask) {
    auto last = mask * (mask.cumsum(1) == mask.sum(1, true)).to(at::kDouble);  // 1 on the last valid token
    auto r = last * outcome.unsqueeze(1);
    if (input.token_penalty.defined()) r = r - input.token_penalty.to(at::kDouble) * mask;
    return r;
  }

  // G_t = r_t + gamma * G_{next valid t}, 0 off the mask (so tool tokens pass the return through).
  static at::Tensor returns_to_go(const at::Tensor& rewards, const at::Tensor& mask, double gamma) {
    auto returns = at::zeros_like(rewards);
    auto running = at::zeros({rewards.size(0)}, rewards.options());
    for (int64_t t = rewards.size(1) - 1; t >= 0; --t) {
      auto on = mask.select(1, t) > 0;
      running = at::where(on, rewards.select(1, t) + gamma * running, running);
      returns.select(1, t).copy_(at::where(on, running, at::zeros_like(running)));
    }
    return returns;
  }

  ReinforcePpOptions options_;
};

VECRL_REGISTER(advantage_registry(), "reinforce_pp",
               (core::make_configured<AdvantageEstimator, ReinforcePpOptions, ReinforcePp<false>>));
VECRL_REGISTER(advantage_registry(), "reinforce_pp_baseline",
               (core::make_configured<AdvantageEstimator, ReinforcePpOptions, ReinforcePp<true>>));

}  // namespace
}  // namespace vecrl::algorithms
