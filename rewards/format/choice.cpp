// choice: multiple-choice answers. The chosen option letter is read from \boxed{B}, "answer: (B)",
// "the answer is B", or a response that is just "B" / "(B)"; 1 when it equals the letter in
// `answer_field` (letters `options`, default A–E). Dimension `extracted` is 1 when a letter was found.
#include <re2/re2.h>

#include "rewards/reward_module.h"
#include "rewards/verifiable/math_answer.h"
#include "rewards/verifiable/text_match.h"

namespace vecrl::rewards {
namespace {

struct ChoiceOptions {
  std::string answer_field = "answer";
  std::string options = "ABCDE";

  template <class V>
  void visit(V& v) {
    v.field("answer_field", answer_field);
    v.field("options", options);
    v.require(!options.empty(), "options", "needs at least one option letter");
  }
};

class Choice : public TextRewardModule {
 public:
  explicit Choice(ChoiceOptions o)
      : o_(std::move(o)),
        marker_("(?i:answer(?: is)?)\\s*[:：]?\\s*\\(?([" + o_.options + "])\\)?(?:[^A-Za-z]|$)"),
        alone_("\\s*\\(?([" + o_.options + "])\\)?[.]?\\s*") {}

  std::vector<RewardDim> dims() const override { return {{"correct", 0.0, 1.0}, {"extracted", 0.0, 1.0, 0.0}}; }

  std::vector<double> score_text(const TextItem& item) const override {
    std::string reference = trim(record_string(item.sample, o_.answer_field, "choice"));
    VECRL_CHECK(reference.size() == 1 && o_.options.find(reference[0]) != std::string::npos, "choice: reference '",
                reference, "' in field '", o_.answer_field, "' is not one of the option letters ", o_.options);
    const auto chosen = chosen_letter(item.text);
    if (!chosen) return {0.0, 0.0};
    return {*chosen == reference[0] ? 1.0 : 0.0, 1.0};
  }

 private:
  std::optional<char> chosen_letter(const std::string& text) const {
    std::string letter;
    if (auto boxed = math::last_boxed(text)) {
      if (RE2::FullMatch(*boxed, alone_, &letter)) return letter[0];
    }
    if (RE2::FullMatch(text, alone_, &letter)) return letter[0];
    // The last "answer: X" in the text.
    re2::StringPiece rest(text);
    std::optional<char> last;
    while (RE2::FindAndConsume(&rest, marker_, &letter)) last = letter[0];
    return last;
  }

  ChoiceOptions o_;
  RE2 marker_, alone_;
};

VECRL_REGISTER(reward_registry(), "choice", (core::make_configured<RewardModule, ChoiceOptions, Choice>));

}  // namespace
}  // namespace vecrl::rewards
