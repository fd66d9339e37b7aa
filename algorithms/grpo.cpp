// GRPO (DeepSeekMath, arXiv 2402.03300) on the weighted reward r = sum_k w_k r_k (algorithms.md §1.1):
//   A_i = (r_i - mean_group(r)) / (std_group(r) + eps)      (normalize_std: true)
//   A_i =  r_i - mean_group(r)                               (normalize_std: false)
// Registered three times with different defaults:
//   grpo    — unbiased std, eps 1e-6 (verl);
//   rc      — "reward combination" (DVAO's baseline, §2): the same estimator, population std;
//   dr_grpo — Dr. GRPO (arXiv 2503.20783, §1.2): no std division (pair it with
//             loss.aggregation: seq-mean-token-sum-norm).
// r is the KL-penalised total when kl_in_reward is on (r - sum_t coef k_t, before the normalisation).
// Rows whose weighted dimensions are not all valid are left out of the statistics and get A = 0.
// A group of one (G = 1) or with a single valid rollout gets A = 0 (verl returns A = r there; a
// lone sample has no baseline).
// answers: first (default) scores a rollout by its first answer; mean, for responses holding
// several answers (scoring.split), by the mean over its M answer slots of their weighted totals, a
// missing answer counting 0 (VPO's rule; the "multi-answer RLVR" baseline of arXiv 2605.22817).
#include <ATen/ATen.h>

#include "algorithms/advantage.h"
#include "algorithms/group_stats.h"

namespace vecrl::algorithms {
namespace {

enum class AnswerReduce { kFirst, kMean };

struct GrpoOptions {
  bool normalize_std = true;
  StdKind std = StdKind::kUnbiased;
  double eps = 1e-6;
  AnswerReduce answers = AnswerReduce::kFirst;

  template <class V>
  void visit(V& v) {
    v.field("normalize_std", normalize_std);
    v.choice("std", std, std_kind_names());
    v.field("eps", eps);
    v.choice("answers", answers, {{"first", AnswerReduce::kFirst}, {"mean", AnswerReduce::kMean}});
    v.require(eps >= 0, "eps", core::str_cat("must be >= 0, got ", eps));
  }
};

struct RcOptions : GrpoOptions {
  RcOptions() { std = StdKind::kPopulation; }
};

struct DrGrpoOptions : GrpoOptions {
  DrGrpoOptions() { normalize_std = false; }
};

class Grpo : public AdvantageEstimator {
 public:
  explicit Grpo(GrpoOptions options) : options_(options) {}

  core::Advantages compute(const AdvantageInput& input) const override {
    auto [reward, valid] = scalar_reward(input);  // [N], [N]
    const int64_t G = input.group_size, P = input.num_groups();
    auto adv = group_normalize(reward.view({P, G}), valid.view({P, G}), options_.std, options_.eps,
                               options_.normalize_std);
    return core::Advantages::single(adv.reshape({P * G}));
  }

  at::Tensor group_has_signal(const AdvantageInput& input) const override {
    if (options_.answers == AnswerReduce::kFirst) return AdvantageEstimator::group_has_signal(input);
    auto [reward, valid] = scalar_reward(input);
    return varies_in_group(reward.view({input.num_groups(), input.group_size}),
                           valid.view({input.num_groups(), input.group_size}));
  }

  KlInReward kl_in_reward() const override { return KlInReward::kOnCombinedReward; }

 private:
  // r [N] float64 and valid [N]: answer 0's (weighted_scalar_reward), or the mean over the answer
  // slots, where every rollout is valid.
  std::pair<at::Tensor, at::Tensor> scalar_reward(const AdvantageInput& input) const {
    if (options_.answers == AnswerReduce::kFirst) return weighted_scalar_reward(input);
    check_input(input);
    auto total = core::weighted_total(input.rewards, input.weights);  // values [N, M], 0 where not valid
    auto reward = total.values.mean(1) - input.sequence_penalty();
    return {reward, at::ones({reward.size(0)}, reward.options().dtype(at::kBool))};
  }

  GrpoOptions options_;
};

VECRL_REGISTER(advantage_registry(), "grpo", (core::make_configured<AdvantageEstimator, GrpoOptions, Grpo>));
VECRL_REGISTER(advantage_registry(), "rc", (core::make_configured<AdvantageEstimator, RcOptions, Grpo>));
VECRL_REGISTER(advantage_registry(), "dr_grpo", (core::make_configured<AdvantageEstimator, DrGrpoOptions, Grpo>));

}  // namespace
}  // namespace vecrl::algorithms
