// math: 1 when the response's final answer equals the sample's reference answer, else 0
// (math_answer.h: \boxed{}, "####", "the answer is", last number; equivalence of parsed expressions
// and structures, docs/math-grader.md). The reference is read from `answer_field`; a reference that is
// itself a worked solution (GSM8K's "… #### 72") is reduced to its final answer first.
// Dimension `extracted` is 1 when the response has a final answer in the accepted form at all.
#include "rewards/reward_module.h"
#include "rewards/verifiable/math_answer.h"

namespace vecrl::rewards {
namespace {

struct MathOptions {
  std::string answer_field = "answer";
  bool require_boxed = false;  // accept only \boxed{…} answers (R1-style prompts ask for them)

  template <class V>
  void visit(V& v) {
    v.field("answer_field", answer_field);
    v.field("require_boxed", require_boxed);
    v.require(!answer_field.empty(), "answer_field", "must name the dataset field with the reference answer");
  }
};

class MathReward : public TextRewardModule {
 public:
  explicit MathReward(MathOptions o) : o_(std::move(o)) {}

  std::vector<RewardDim> dims() const override { return {{"correct", 0.0, 1.0}, {"extracted", 0.0, 1.0, 0.0}}; }

  std::vector<double> score_text(const TextItem& item) const override {
    const std::string reference = reference_answer(record_string(item.sample, o_.answer_field, "math"));
    const auto given = o_.require_boxed ? math::last_boxed(item.text) : math::extract_final_answer(item.text);
    if (!given) return {0.0, 0.0};
    return {math::answers_equivalent(*given, reference) ? 1.0 : 0.0, 1.0};
  }

 private:
  static std::string reference_answer(const std::string& field) {
    if (field.find("####") != std::string::npos || field.find("\\boxed") != std::string::npos)
      if (auto answer = math::extract_final_answer(field)) return *answer;
    return field;
  }

  MathOptions o_;
};

VECRL_REGISTER(reward_registry(), "math", (core::make_configured<RewardModule, MathOptions, MathReward>));

}  // namespace
}  // namespace vecrl::rewards
