// exact_match: 1 when the trimmed response equals the sample's reference (a string or any of a
// list of strings in `answer_field`), optionally ignoring case and inner whitespace runs.
#include "rewards/reward_module.h"
#include "rewards/verifiable/text_match.h"

namespace vecrl::rewards {
namespace {

struct ExactMatchOptions {
  std::string answer_field = "answer";
  bool case_sensitive = false;
  bool collapse_whitespace = true;

  template <class V>
  void visit(V& v) {
    v.field("answer_field", answer_field);
    v.field("case_sensitive", case_sensitive);
    v.field("collapse_whitespace", collapse_whitespace);
  }
};

class ExactMatch : public TextRewardModule {
 public:
  explicit ExactMatch(ExactMatchOptions o) : o_(std::move(o)) {}

  std::vector<RewardDim> dims() const override { return {{"match", 0.0, 1.0}}; }

  std::vector<double> score_text(const TextItem& item) const override {
    const auto& field = record_field(item.sample, o_.answer_field, "exact_match");
    std::vector<std::string> references;
    if (field.is_array()) {
      for (const auto& x : field) references.push_back(x.is_string() ? x.get<std::string>() : x.dump());
    } else {
      references.push_back(record_string(item.sample, o_.answer_field, "exact_match"));
    }
    const std::string given = canonical(item.text);
    for (const auto& reference : references)
      if (canonical(reference) == given) return {1.0};
    return {0.0};
  }

 private:
  std::string canonical(const std::string& s) const {
    std::string out = o_.case_sensitive ? s : to_lower_ascii(s);
    if (!o_.collapse_whitespace) return trim(out);
    std::string joined;
    for (const auto& w : split_words(out)) joined += (joined.empty() ? "" : " ") + w;
    return joined;
  }

  ExactMatchOptions o_;
};

VECRL_REGISTER(reward_registry(), "exact_match",
               (core::make_configured<RewardModule, ExactMatchOptions, ExactMatch>));

}  // namespace
}  // namespace vecrl::rewards
