// par: Preference As Reward (Fu et al., arXiv 2502.18770; algorithms.md §9.2):
//   r_RL = (1/R) sum_r sigmoid(r - ref_r),
// bounded in (0, 1). Reference rewards are those of reference (SFT-policy) responses to the same
// prompt: a fixed list in the config or a dataset field. `max_refs` caps R. A rollout without
// reference rewards is not-valid (the authors' code passes the raw reward through, which mixes
// scales; vecrl marks it, as `lsc` does).
#include <ATen/ATen.h>

#include "rewards/transforms/transform.h"

namespace vecrl::rewards {
namespace {

struct ParOptions {
  std::vector<double> refs;  // fixed reference rewards (used when `field` is empty)
  std::string field;         // dataset field with this prompt's reference reward(s)
  int64_t max_refs = 0;      // 0 = all

  template <class V>
  void visit(V& v) {
    v.field("refs", refs);
    v.field("field", field);
    v.field("max_refs", max_refs);
    v.require(refs.empty() != field.empty(), "refs", "set exactly one of `refs` and `field`");
    v.require(max_refs >= 0, "max_refs", core::str_cat("must be >= 0, got ", max_refs));
  }
};

class Par : public RewardTransform {
 public:
  explicit Par(ParOptions o) : o_(std::move(o)) {}

  void apply(core::RewardMatrix& part, const TransformContext& context) const override {
    auto refs = reference_rewards(context.rollouts, o_.refs, o_.field, "par");  // [N, R]
    if (o_.max_refs > 0 && refs.size(1) > o_.max_refs) refs = refs.narrow(1, 0, o_.max_refs);
    auto present = refs.isnan().logical_not();                              // [N, R]
    auto count = present.sum(1).to(at::kDouble);                            // [N]
    auto r = part.values.to(at::kDouble).unsqueeze(-1);                     // [N, M, K, 1]
    auto ref = refs.nan_to_num(0.0).view({refs.size(0), 1, 1, refs.size(1)});
    auto mask = present.view({refs.size(0), 1, 1, refs.size(1)}).to(at::kDouble);
    auto shaped = (at::sigmoid(r - ref) * mask).sum(-1) / count.clamp_min(1).view({-1, 1, 1});
    auto has_refs = (count > 0).view({-1, 1, 1});
    part.values.copy_(at::where(has_refs, shaped, at::zeros_like(shaped)));
    part.valid.logical_and_(has_refs);
  }

 private:
  ParOptions o_;
};

VECRL_REGISTER(transform_registry(), "par", (core::make_configured<RewardTransform, ParOptions, Par>));

}  // namespace
}  // namespace vecrl::rewards
