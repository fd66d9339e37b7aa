// ends_with: 1 when the trimmed response ends with one of the configured suffixes (a full stop by
// default) and, with `require_stop`, the model stopped on its own rather than at max_new_tokens.
#include "rewards/reward_module.h"
#include "rewards/verifiable/text_match.h"

namespace vecrl::rewards {
namespace {

struct EndsWithOptions {
  std::vector<std::string> suffixes{"."};
  bool require_stop = true;

  template <class V>
  void visit(V& v) {
    v.field("suffixes", suffixes);
    v.field("require_stop", require_stop);
    v.require(!suffixes.empty(), "suffixes", "needs at least one suffix");
  }
};

class EndsWith : public TextRewardModule {
 public:
  explicit EndsWith(EndsWithOptions o) : o_(std::move(o)) {}

  std::vector<RewardDim> dims() const override { return {{"score", 0.0, 1.0}}; }

  std::vector<double> score_text(const TextItem& item) const override {
    if (o_.require_stop && item.truncated) return {0.0};
    const std::string text = trim(item.text);
    for (const auto& s : o_.suffixes)
      if (text.size() >= s.size() && text.compare(text.size() - s.size(), s.size(), s) == 0) return {1.0};
    return {0.0};
  }

 private:
  EndsWithOptions o_;
};

VECRL_REGISTER(reward_registry(), "ends_with", (core::make_configured<RewardModule, EndsWithOptions, EndsWith>));

}  // namespace
}  // namespace vecrl::rewards
