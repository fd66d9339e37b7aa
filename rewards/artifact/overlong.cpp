// overlong: DAPO's soft overlong punishment (arXiv 2503.14476; algorithms.md §1.3) on response
// tokens L:  0 if L <= max_length − cache;  ((max_length − cache) − L) / cache in between;
// −1 beyond max_length; times `penalty_factor` (verl's knob, paper: 1).
#include "rewards/reward_module.h"

namespace vecrl::rewards {
namespace {

struct OverlongOptions {
  int64_t max_length = 20480;  // L_max, in response tokens
  int64_t cache = 4096;        // L_cache
  double penalty_factor = 1.0;

  template <class V>
  void visit(V& v) {
    v.field("max_length", max_length);
    v.field("cache", cache);
    v.field("penalty_factor", penalty_factor);
    v.require(cache >= 1 && cache <= max_length, "cache",
              core::str_cat("must be in [1, max_length = ", max_length, "], got ", cache));
    v.require(penalty_factor >= 0, "penalty_factor", core::str_cat("must be >= 0, got ", penalty_factor));
  }
};

class Overlong : public TextRewardModule {
 public:
  explicit Overlong(OverlongOptions o) : o_(o) {}

  std::vector<RewardDim> dims() const override { return {{"penalty", -o_.penalty_factor, 0.0}}; }

  std::vector<double> score_text(const TextItem& item) const override {
    return {o_.penalty_factor * penalty(require_token_count(item, "overlong"))};
  }

  double penalty(int64_t length) const {
    const int64_t free = o_.max_length - o_.cache;
    if (length <= free) return 0.0;
    if (length > o_.max_length) return -1.0;
    return static_cast<double>(free - length) / static_cast<double>(o_.cache);
  }

 private:
  OverlongOptions o_;
};

VECRL_REGISTER(reward_registry(), "overlong", (core::make_configured<RewardModule, OverlongOptions, Overlong>));

}  // namespace
}  // namespace vecrl::rewards
