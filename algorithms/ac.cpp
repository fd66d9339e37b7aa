// AC — advantage combination (algorithms.md §2): A = sum_k w_k (r_k - mean_k) / (std_k + eps),
// each dimension z-scored within the group. Defaults follow TRL/GDPO: unbiased std, eps 1e-4
// (set `std: population` for the DVAO paper's convention).
#include <ATen/ATen.h>

#include "algorithms/multi_reward.h"

namespace vecrl::algorithms {
namespace {

struct AcOptions {
  StdKind std = StdKind::kUnbiased;
  double eps = 1e-4;

  template <class V>
  void visit(V& v) {
    v.choice("std", std, std_kind_names());
    v.field("eps", eps);
    v.require(eps >= 0, "eps", core::str_cat("must be >= 0, got ", eps));
  }
};

class Ac : public AdvantageEstimator {
 public:
  explicit Ac(AcOptions options) : options_(options) {}

  core::Advantages compute(const AdvantageInput& input) const override {
    auto view = dimension_view(input);
    auto adv = advantage_combination(view, options_.std, options_.eps);
    return core::Advantages::single(adv.reshape({-1}));
  }

 private:
  AcOptions options_;
};

VECRL_REGISTER(advantage_registry(), "ac", (core::make_configured<AdvantageEstimator, AcOptions, Ac>));

}  // namespace
}  // namespace vecrl::algorithms
