// A complete vecrl plugin: the "median_baseline" advantage estimator,
//   A_i = (r_i - median_group(r)) / scale,
// a baseline that is robust to one outlier rollout. r is the weighted reward of the run's reward
// dimensions; rows whose weighted dimensions are not all valid get A = 0 and stay out of the median.
#include <ATen/ATen.h>

#include "algorithms/advantage.h"
#include "core/plugin.h"

VECRL_PLUGIN()  // declares the plugin ABI this library was built for

namespace {

using namespace vecrl;

// Options are read from the `advantage:` section (or `vecrl advantage --set`); unknown keys and bad
// values are reported with the key path, file and line by the same machinery as built-ins.
struct MedianBaselineOptions {
  double scale = 1.0;

  template <class V>
  void visit(V& v) {
    v.field("scale", scale);
    v.require(scale > 0, "scale", core::str_cat("must be > 0, got ", scale));
  }
};

class MedianBaseline : public algorithms::AdvantageEstimator {
 public:
  explicit MedianBaseline(MedianBaselineOptions options) : options_(options) {}

  core::Advantages compute(const algorithms::AdvantageInput& input) const override {
    auto [reward, valid] = algorithms::weighted_scalar_reward(input);  // [N], [N]
    const int64_t G = input.group_size, P = input.num_groups();
    auto r = reward.view({P, G}).to(at::kDouble);
    auto ok = valid.view({P, G});
    auto adv = at::zeros({P, G}, at::kDouble);
    for (int64_t p = 0; p < P; ++p) {
      auto kept = r[p].masked_select(ok[p]);
      if (kept.numel() < 2) continue;  // no baseline for a lone rollout
      // Lower median for even counts (at::median's convention).
      adv[p] = at::where(ok[p], (r[p] - kept.median()) / options_.scale, at::zeros_like(r[p]));
    }
    return core::Advantages::single(adv.reshape({P * G}));
  }

  // weighted_scalar_reward already subtracts the KL penalty in the reward from the total.
  algorithms::KlInReward kl_in_reward() const override { return algorithms::KlInReward::kOnCombinedReward; }

 private:
  MedianBaselineOptions options_;
};

VECRL_REGISTER(algorithms::advantage_registry(), "median_baseline",
               (core::make_configured<algorithms::AdvantageEstimator, MedianBaselineOptions, MedianBaseline>));

}  // namespace
