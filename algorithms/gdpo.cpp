// GDPO (arXiv 2601.05242; NVlabs TRL implementation, algorithms.md §2): advantage combination
// (unbiased std, eps 1e-4), then a second normalisation over the whole batch — all groups and,
// when distributed, all ranks (statistics go through AdvantageInput::all_reduce_sum):
//   pre_i = sum_k w_k z_k(i);   A_i = (pre_i - mean_batch(pre)) / (ustd_batch(pre) + eps).
// With a single weighted dimension GDPO is plain GRPO of that dimension with the same std and eps,
// as in TRL: A = z, whatever its weight (a negative weight flips the sign). Rows with invalid
// weighted dimensions get A = 0 and are left out of the batch statistics (TRL replaces a missing
// reward by 0 instead; we mask). A KL penalty in the reward has no combined reward to enter here:
// the trainer refuses it.
#include <ATen/ATen.h>

#include "algorithms/multi_reward.h"

namespace vecrl::algorithms {
namespace {

class Gdpo : public AdvantageEstimator {
 public:
  explicit Gdpo(ZScoreOptions options) : options_(options) {}

  core::Advantages compute(const AdvantageInput& input) const override {
    reject_penalty(input, "gdpo");
    auto view = dimension_view(input);
    auto pre = advantage_combination(view, options_.std, options_.eps);  // [P, G]
    if ((view.weights != 0).sum().item<int64_t>() <= 1) return core::Advantages::single(pre.reshape({-1}));
    const auto batch = global_moments(input, pre, view.row_valid, options_.std == StdKind::kUnbiased ? 1.0 : 0.0);
    auto adv = (pre - batch.mean) / (std::sqrt(batch.var) + options_.eps);
    adv = at::where(view.row_valid, adv, at::zeros_like(adv));
    return core::Advantages::single(adv.reshape({-1}));
  }

  at::Tensor group_has_signal(const AdvantageInput& input) const override {
    return any_dimension_varies(dimension_view(input));
  }

 private:
  ZScoreOptions options_;
};

VECRL_REGISTER(advantage_registry(), "gdpo", (core::make_configured<AdvantageEstimator, ZScoreOptions, Gdpo>));

}  // namespace
}  // namespace vecrl::algorithms
