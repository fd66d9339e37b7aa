// completion: hard degeneracy flags as 0/1 dimensions (algorithms.md §7, text analogue, a design
// proposal): `stopped` (the model ended with EOS rather than hitting max_new_tokens), `nonempty`
// (some non-whitespace text), `answer_wellformed` (exactly one <answer_tag>…</answer_tag> with
// content; 1 when no tag is configured), and `clean` = their product.
#include "rewards/reward_module.h"
#include "rewards/verifiable/text_match.h"

namespace vecrl::rewards {
namespace {

struct CompletionOptions {
  std::string answer_tag;  // e.g. "answer"; empty = no answer-format check

  template <class V>
  void visit(V& v) {
    v.field("answer_tag", answer_tag);
  }
};

std::size_t occurrences(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

class Completion : public TextRewardModule {
 public:
  explicit Completion(CompletionOptions o) : o_(std::move(o)) {}

  std::vector<RewardDim> dims() const override {
    return {{"stopped", 0, 1, 0}, {"nonempty", 0, 1, 0}, {"answer_wellformed", 0, 1, 0}, {"clean", 0, 1}};
  }

  std::vector<double> score_text(const TextItem& item) const override {
    const double stopped = item.truncated ? 0.0 : 1.0;
    const double nonempty = trim(item.text).empty() ? 0.0 : 1.0;
    double wellformed = 1.0;
    if (!o_.answer_tag.empty()) {
      const std::string open = "<" + o_.answer_tag + ">", close = "</" + o_.answer_tag + ">";
      const auto begin = item.text.find(open), end = item.text.find(close);
      wellformed = occurrences(item.text, open) == 1 && occurrences(item.text, close) == 1 && begin < end &&
                           !trim(item.text.substr(begin + open.size(), end - begin - open.size())).empty()
                       ? 1.0
                       : 0.0;
    }
    return {stopped, nonempty, wellformed, stopped * nonempty * wellformed};
  }

 private:
  CompletionOptions o_;
};

VECRL_REGISTER(reward_registry(), "completion", (core::make_configured<RewardModule, CompletionOptions, Completion>));

}  // namespace
}  // namespace vecrl::rewards
