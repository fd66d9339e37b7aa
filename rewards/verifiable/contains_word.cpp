// contains_word: 1 when the response mentions the sample's target word (read from a dataset field)
// or any word of a fixed list; 0 otherwise. With saturate_at = n the score counts distinct words of
// the list: min(found, n) / n (n = 1 is the plain rule). With reward_absence the score is 1 - that.
#include <algorithm>

#include "rewards/reward_module.h"
#include "rewards/verifiable/text_match.h"

namespace vecrl::rewards {
namespace {

struct ContainsWordOptions {
  std::string field = "word";       // dataset field holding the target word (used when `words` is empty)
  std::vector<std::string> words;   // fixed target words (any one counts)
  bool case_sensitive = false;
  bool whole_word = true;
  bool reward_absence = false;      // score 1 when none of the words appears (a "must not mention" rule)
  int64_t saturate_at = 1;          // distinct words for a full score (partial credit below)

  template <class V>
  void visit(V& v) {
    v.field("field", field);
    v.field("words", words);
    v.field("case_sensitive", case_sensitive);
    v.field("whole_word", whole_word);
    v.field("reward_absence", reward_absence);
    v.field("saturate_at", saturate_at);
    v.require(saturate_at >= 1, "saturate_at", core::str_cat("must be >= 1, got ", saturate_at));
    v.require(!field.empty() || !words.empty(), "field", "set `field` or `words`");
  }
};

class ContainsWord : public TextRewardModule {
 public:
  explicit ContainsWord(ContainsWordOptions o) : o_(std::move(o)) {}

  std::vector<RewardDim> dims() const override { return {{"score", 0.0, 1.0}}; }

  std::vector<double> score_text(const TextItem& item) const override {
    const auto targets =
        o_.words.empty() ? std::vector<std::string>{record_string(item.sample, o_.field, "contains_word")} : o_.words;
    const std::string text = o_.case_sensitive ? item.text : to_lower_ascii(item.text);
    int64_t found = 0;
    for (const auto& target : targets) {
      const std::string t = o_.case_sensitive ? target : to_lower_ascii(target);
      found += o_.whole_word ? contains_whole_word(text, t) : text.find(t) != std::string::npos;
      if (found >= o_.saturate_at) break;
    }
    const double share = static_cast<double>(std::min(found, o_.saturate_at)) / static_cast<double>(o_.saturate_at);
    return {o_.reward_absence ? 1.0 - share : share};
  }

 private:
  ContainsWordOptions o_;
};

VECRL_REGISTER(reward_registry(), "contains_word", (core::make_configured<RewardModule, ContainsWordOptions, ContainsWord>));

}  // namespace
}  // namespace vecrl::rewards
