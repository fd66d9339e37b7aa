// word_limit: 1 when the response has between min_words and max_words words; above the limit the
// score decays linearly to 0 at `zero_at` words (so the signal is dense instead of all-or-nothing).
#include "rewards/reward_module.h"
#include "rewards/verifiable/text_match.h"

namespace vecrl::rewards {
namespace {

struct WordLimitOptions {
  int64_t min_words = 1;
  int64_t max_words = 20;
  int64_t zero_at = 0;  // 0 = a hard limit (score 0 right above max_words)

  template <class V>
  void visit(V& v) {
    v.field("min_words", min_words);
    v.field("max_words", max_words);
    v.field("zero_at", zero_at);
    v.require(min_words >= 0, "min_words", core::str_cat("must be >= 0, got ", min_words));
    v.require(max_words >= min_words, "max_words",
              core::str_cat("must be >= min_words (", min_words, "), got ", max_words));
    v.require(zero_at == 0 || zero_at > max_words, "zero_at",
              core::str_cat("must be 0 or > max_words (", max_words, "), got ", zero_at));
  }
};

class WordLimit : public TextRewardModule {
 public:
  explicit WordLimit(WordLimitOptions o) : o_(o) {}

  std::vector<RewardDim> dims() const override { return {{"score", 0.0, 1.0}}; }

  std::vector<double> score_text(const TextItem& item) const override {
    const auto n = static_cast<int64_t>(split_words(item.text).size());
    return {linear_limit_score(n, o_.min_words, o_.max_words, o_.zero_at)};
  }

 private:
  WordLimitOptions o_;
};

VECRL_REGISTER(reward_registry(), "word_limit", (core::make_configured<RewardModule, WordLimitOptions, WordLimit>));

}  // namespace
}  // namespace vecrl::rewards
