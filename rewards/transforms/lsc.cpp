// lsc: log-sigmoid centering (Wang et al., arXiv 2402.00742; algorithms.md §9.1):
//   u = log sigmoid(r - r_ref),   r_ref = mean(refs) + quantile_z * pstd(refs)
// (quantile_z = 1.0364: the 85th percentile under a normal fit, as in PAR's re-implementation).
// Summing the transformed dimensions is then a logical AND: log prod_k P(good_k).
// A rollout without reference rewards has no r_ref: its dimensions are not-valid (left out of the
// statistics, advantage 0), as in `par`; no reference is never read as r_ref = 0.
#include <ATen/ATen.h>

#include "rewards/transforms/transform.h"

namespace vecrl::rewards {
namespace {

struct LscOptions {
  std::vector<double> refs;
  std::string field;
  double quantile_z = 1.0364;

  template <class V>
  void visit(V& v) {
    v.field("refs", refs);
    v.field("field", field);
    v.field("quantile_z", quantile_z);
    v.require(refs.empty() != field.empty(), "refs", "set exactly one of `refs` and `field`");
  }
};

class Lsc : public RewardTransform {
 public:
  explicit Lsc(LscOptions o) : o_(std::move(o)) {}

  void apply(core::RewardMatrix& part, const TransformContext& context) const override {
    auto refs = reference_rewards(context.rollouts, o_.refs, o_.field, "lsc");  // [N, R]
    auto present = refs.isnan().logical_not();
    auto count = present.sum(1).to(at::kDouble);
    auto x = refs.nan_to_num(0.0) * present.to(at::kDouble);
    auto mean = x.sum(1) / count.clamp_min(1);
    auto var = ((x - mean.unsqueeze(1)).square() * present.to(at::kDouble)).sum(1) / count.clamp_min(1);
    auto r_ref = (mean + o_.quantile_z * var.sqrt()).view({-1, 1, 1});  // [N, 1, 1]
    part.values.copy_(at::log_sigmoid(part.values.to(at::kDouble) - r_ref));
    part.valid.logical_and_((count > 0).view({-1, 1, 1}));
  }

 private:
  LscOptions o_;
};

VECRL_REGISTER(transform_registry(), "lsc", (core::make_configured<RewardTransform, LscOptions, Lsc>));

}  // namespace
}  // namespace vecrl::rewards
