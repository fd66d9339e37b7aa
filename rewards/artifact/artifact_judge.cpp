// artifact_judge: a judge asked whether the response shows degenerate artifacts (repetition loops,
// unrelated text, fabricated tool output, language mixing, answer-format gaming); reward
// 1 − P(yes) (the ArtifactReward paper's detector, algorithms.md §7, applied to text — a design
// proposal for LLMs).
#include "rewards/judge/judge.h"
#include "rewards/reward_module.h"

namespace vecrl::rewards {
namespace {

struct ArtifactJudgeOptions {
  core::ComponentSpec judge;
  std::string question =
      "Does the following response contain degenerate artifacts such as repetition loops, unrelated text, "
      "fabricated tool output, language mixing or answer-format gaming?\n\nPrompt:\n{prompt}\n\nResponse:\n"
      "{response}\n\nAnswer yes or no.\nAnswer:";

  template <class V>
  void visit(V& v) {
    v.component("judge", judge, "local");
    v.field("question", question);
    v.require(question.find("{response}") != std::string::npos, "question", "must contain {response}");
  }
};

class ArtifactJudge : public TextRewardModule {
 public:
  explicit ArtifactJudge(ArtifactJudgeOptions o)
      : o_(std::move(o)), judge_(core::create_component(judge_registry(), o_.judge)) {}

  std::vector<RewardDim> dims() const override { return {{"clean", 0, 1}}; }
  bool needs_reference() const override { return judge_->needs_reference(); }

  std::vector<double> score_text(const TextItem& item) const override {
    std::string q = o_.question;
    for (const auto& [slot, value] : {std::pair<std::string, const std::string*>{"{prompt}", &item.prompt},
                                      {"{response}", &item.text}})
      for (auto pos = q.find(slot); pos != std::string::npos; pos = q.find(slot, pos + value->size()))
        q.replace(pos, slot.size(), *value);
    return {1.0 - judge_->p_yes(q, item.models)};
  }

 private:
  ArtifactJudgeOptions o_;
  std::unique_ptr<Judge> judge_;
};

VECRL_REGISTER(reward_registry(), "artifact_judge",
               (core::make_configured<RewardModule, ArtifactJudgeOptions, ArtifactJudge>));

}  // namespace
}  // namespace vecrl::rewards
