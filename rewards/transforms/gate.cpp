// gate: G-RA gated reward accumulation (Sun et al., arXiv 2508.10548; algorithms.md §9.3): this
// module's rewards count only where a higher-priority dimension (of a module listed earlier)
// reaches a threshold, R_low <- 1[r_high >= threshold] * R_low. Where the gating dimension is
// not-valid, the gated values are not-valid too (unknown outcome, not a zero).
#include <ATen/ATen.h>

#include "rewards/transforms/transform.h"

namespace vecrl::rewards {
namespace {

struct GateOptions {
  std::string by;          // full dimension name "<module>/<dim>" of an earlier module
  double threshold = 1.0;  // delta

  template <class V>
  void visit(V& v) {
    v.field("by", by);
    v.field("threshold", threshold);
    v.require(!by.empty(), "by", "name the gating dimension as <module>/<dim>");
  }
};

class Gate : public RewardTransform {
 public:
  explicit Gate(GateOptions o) : o_(std::move(o)) {}

  void apply(core::RewardMatrix& part, const TransformContext& context) const override {
    VECRL_CHECK(context.earlier.values.defined(), "gate: no module is listed before this one, so '", o_.by,
                "' cannot gate it (list higher-priority modules first)");
    const int64_t k = context.earlier.index_of(o_.by);
    auto high = context.earlier.values.select(2, k).unsqueeze(-1);   // [N, M, 1]
    auto known = context.earlier.valid.select(2, k).unsqueeze(-1);  // [N, M, 1]
    part.values.mul_((high >= o_.threshold).to(part.values.scalar_type()));
    part.valid.logical_and_(known);
  }

 private:
  GateOptions o_;
};

VECRL_REGISTER(transform_registry(), "gate", (core::make_configured<RewardTransform, GateOptions, Gate>));

}  // namespace
}  // namespace vecrl::rewards
