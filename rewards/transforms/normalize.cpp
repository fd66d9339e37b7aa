// normalize: maps each dimension to [0, 1] by its declared bounds, (v - low) / (high - low),
// clamped. Estimators such as DVAO assume rewards in [0, 1].
#include <ATen/ATen.h>

#include "rewards/transforms/transform.h"

namespace vecrl::rewards {
namespace {

struct NormalizeOptions {
  bool clamp = true;

  template <class V>
  void visit(V& v) {
    v.field("clamp", clamp);
  }
};

class Normalize : public RewardTransform {
 public:
  explicit Normalize(NormalizeOptions o) : o_(o) {}

  void apply(core::RewardMatrix& part, const TransformContext& context) const override {
    for (int64_t k = 0; k < part.dims(); ++k) {
      const auto& dim = context.bounds[k];
      VECRL_CHECK(std::isfinite(dim.low) && std::isfinite(dim.high) && dim.high > dim.low, "normalize: dimension '",
                  part.names[k], "' has bounds [", dim.low, ", ", dim.high, "]; normalisation needs finite low < high");
      auto column = part.values.select(2, k);
      auto scaled = (column - dim.low) / (dim.high - dim.low);
      column.copy_(o_.clamp ? scaled.clamp(0.0, 1.0) : scaled);
    }
  }

 private:
  NormalizeOptions o_;
};

VECRL_REGISTER(transform_registry(), "normalize",
               (core::make_configured<RewardTransform, NormalizeOptions, Normalize>));

}  // namespace
}  // namespace vecrl::rewards
