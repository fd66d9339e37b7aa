// length: 1 when the response length (in `unit`s: tokens, words or characters) lies in
// [min, max]; above max the score decays linearly to 0 at `zero_at` (0 = a hard limit).
#include <algorithm>

#include "rewards/reward_module.h"
#include "rewards/verifiable/text_match.h"

namespace vecrl::rewards {
namespace {

enum class LengthUnit { kTokens, kWords, kChars };

struct LengthOptions {
  LengthUnit unit = LengthUnit::kTokens;
  int64_t min = 1;
  int64_t max = 512;
  int64_t zero_at = 0;

  template <class V>
  void visit(V& v) {
    v.choice("unit", unit, {{"tokens", LengthUnit::kTokens}, {"words", LengthUnit::kWords}, {"chars", LengthUnit::kChars}});
    v.field("min", min);
    v.field("max", max);
    v.field("zero_at", zero_at);
    v.require(min >= 0, "min", core::str_cat("must be >= 0, got ", min));
    v.require(max >= min, "max", core::str_cat("must be >= min (", min, "), got ", max));
    v.require(zero_at == 0 || zero_at > max, "zero_at", core::str_cat("must be 0 or > max (", max, "), got ", zero_at));
  }
};

class Length : public TextRewardModule {
 public:
  explicit Length(LengthOptions o) : o_(o) {}

  std::vector<RewardDim> dims() const override { return {{"score", 0.0, 1.0}}; }

  std::vector<double> score_text(const TextItem& item) const override {
    int64_t n = 0;
    switch (o_.unit) {
      case LengthUnit::kTokens: n = require_token_count(item, "length"); break;
      case LengthUnit::kWords: n = static_cast<int64_t>(split_words(item.text).size()); break;
      case LengthUnit::kChars:  // UTF-8 code points: count the bytes that start a character
        n = std::count_if(item.text.begin(), item.text.end(), [](char c) { return (c & 0xC0) != 0x80; });
        break;
    }
    return {linear_limit_score(n, o_.min, o_.max, o_.zero_at)};
  }

 private:
  LengthOptions o_;
};

VECRL_REGISTER(reward_registry(), "length", (core::make_configured<RewardModule, LengthOptions, Length>));

}  // namespace
}  // namespace vecrl::rewards
