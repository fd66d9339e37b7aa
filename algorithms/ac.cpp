// AC — advantage combination (algorithms.md §2): A = sum_k w_k (r_k - mean_k) / (std_k + eps) over
// the trained dimensions, each z-scored within the group, with the weights normalised to
// sum_k |w_k| = 1 (weights [1, 1] and [0.5, 0.5] give the same advantages). Defaults follow
// TRL/GDPO: unbiased std, eps 1e-4 (set `std: population` for the DVAO paper's convention).
// A KL penalty in the reward has no combined reward to enter here: the trainer refuses it.
#include <ATen/ATen.h>

#include "algorithms/multi_reward.h"

namespace vecrl::algorithms {
namespace {

class Ac : public AdvantageEstimator {
 public:
  explicit Ac(ZScoreOptions options) : options_(options) {}

  core::Advantages compute(const AdvantageInput& input) const override {
    reject_penalty(input, "ac");
    auto view = dimension_view(input);
    auto adv = advantage_combination(view, options_.std, options_.eps);
    return core::Advantages::single(adv.reshape({-1}));
  }

  at::Tensor group_has_signal(const AdvantageInput& input) const override {
    return any_dimension_varies(dimension_view(input));
  }

 private:
  ZScoreOptions options_;
};

VECRL_REGISTER(advantage_registry(), "ac", (core::make_configured<AdvantageEstimator, ZScoreOptions, Ac>));

}  // namespace
}  // namespace vecrl::algorithms
