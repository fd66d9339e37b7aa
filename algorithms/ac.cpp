// AC — advantage combination (algorithms.md §2): A = sum_k w_k (r_k - mean_k) / (std_k + eps),
// each dimension z-scored within the group. Defaults follow TRL/GDPO: unbiased std, eps 1e-4
// (set `std: population` for the DVAO paper's convention).
#include <ATen/ATen.h>

#include "algorithms/multi_reward.h"

namespace vecrl::algorithms {
namespace {

class Ac : public AdvantageEstimator {
 public:
  explicit Ac(ZScoreOptions options) : options_(options) {}

  core::Advantages compute(const AdvantageInput& input) const override {
    auto view = dimension_view(input);
    auto adv = advantage_combination(view, options_.std, options_.eps);
    return core::Advantages::single(adv.reshape({-1}));
  }

 private:
  ZScoreOptions options_;
};

VECRL_REGISTER(advantage_registry(), "ac", (core::make_configured<AdvantageEstimator, ZScoreOptions, Ac>));

}  // namespace
}  // namespace vecrl::algorithms
