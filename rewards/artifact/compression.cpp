// compression: how well the response compresses, c = len(zlib(y)) / len(y); looping text
// compresses far better than prose. Score min(1, c / min_ratio): 1 at or above `min_ratio`,
// falling to 0 for a fully repetitive text. Texts shorter than `min_bytes` are not judged (the
// zlib header dominates there) and score 1. Dimension `ratio` reports c itself (NaN → not-valid
// for short texts). Text analogue of the artifact reward (algorithms.md §7, a design proposal).
#include <zlib.h>

#include <cmath>

#include "rewards/reward_module.h"

namespace vecrl::rewards {
namespace {

struct CompressionOptions {
  double min_ratio = 0.3;
  int64_t min_bytes = 200;

  template <class V>
  void visit(V& v) {
    v.field("min_ratio", min_ratio);
    v.field("min_bytes", min_bytes);
    v.require(min_ratio > 0 && min_ratio <= 1.5, "min_ratio", core::str_cat("must be in (0, 1.5], got ", min_ratio));
    v.require(min_bytes >= 1, "min_bytes", core::str_cat("must be >= 1, got ", min_bytes));
  }
};

double zlib_ratio(const std::string& text) {
  uLongf size = compressBound(static_cast<uLong>(text.size()));
  std::string out(size, '\0');
  const int rc = compress2(reinterpret_cast<Bytef*>(out.data()), &size, reinterpret_cast<const Bytef*>(text.data()),
                           static_cast<uLong>(text.size()), Z_DEFAULT_COMPRESSION);
  VECRL_CHECK(rc == Z_OK, "compression: zlib failed with code ", rc);
  return static_cast<double>(size) / static_cast<double>(text.size());
}

class Compression : public TextRewardModule {
 public:
  explicit Compression(CompressionOptions o) : o_(o) {}

  std::vector<RewardDim> dims() const override { return {{"score", 0.0, 1.0}, {"ratio", 0.0, 1.5, 0.0}}; }

  std::vector<double> score_text(const TextItem& item) const override {
    if (static_cast<int64_t>(item.text.size()) < o_.min_bytes) return {1.0, NAN};
    const double ratio = zlib_ratio(item.text);
    return {std::min(1.0, ratio / o_.min_ratio), ratio};
  }

 private:
  CompressionOptions o_;
};

VECRL_REGISTER(reward_registry(), "compression",
               (core::make_configured<RewardModule, CompressionOptions, Compression>));

}  // namespace
}  // namespace vecrl::rewards
