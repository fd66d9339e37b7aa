// repetition: 1 − rep_n, rep_n = 1 − |unique n-grams| / |n-grams| over whitespace words (n = 4 by
// default); a response shorter than n words has no repeated n-gram and scores 1. Part of the text
// analogue of the artifact reward (algorithms.md §7 — a design proposal, not from the paper).
#include <set>

#include "rewards/reward_module.h"
#include "rewards/verifiable/text_match.h"

namespace vecrl::rewards {
namespace {

struct RepetitionOptions {
  int64_t n = 4;

  template <class V>
  void visit(V& v) {
    v.field("n", n);
    v.require(n >= 1, "n", core::str_cat("must be >= 1, got ", n));
  }
};

class Repetition : public TextRewardModule {
 public:
  explicit Repetition(RepetitionOptions o) : o_(o) {}

  std::vector<RewardDim> dims() const override { return {{"score", 0.0, 1.0}}; }

  std::vector<double> score_text(const TextItem& item) const override {
    const auto words = split_words(item.text);
    const auto n = static_cast<std::size_t>(o_.n);
    if (words.size() < n) return {1.0};
    std::set<std::vector<std::string>> unique;
    const std::size_t total = words.size() - n + 1;
    for (std::size_t i = 0; i < total; ++i) unique.emplace(words.begin() + i, words.begin() + i + n);
    return {static_cast<double>(unique.size()) / static_cast<double>(total)};
  }

 private:
  RepetitionOptions o_;
};

VECRL_REGISTER(reward_registry(), "repetition", (core::make_configured<RewardModule, RepetitionOptions, Repetition>));

}  // namespace
}  // namespace vecrl::rewards
