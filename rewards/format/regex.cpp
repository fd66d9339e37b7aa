// regex: 1 when the response matches an RE2 pattern (linear time, so model output cannot make a
// check run away), else 0. `full_match` anchors the pattern at both ends; the pattern may come from
// a dataset field instead of the config.
#include <re2/re2.h>

#include <memory>

#include "rewards/reward_module.h"

namespace vecrl::rewards {
namespace {

struct RegexOptions {
  std::string pattern;        // fixed pattern (or use `pattern_field`)
  std::string pattern_field;  // dataset field holding the pattern
  bool full_match = false;
  bool case_sensitive = true;
  bool dot_matches_newline = true;

  template <class V>
  void visit(V& v) {
    v.field("pattern", pattern);
    v.field("pattern_field", pattern_field);
    v.field("full_match", full_match);
    v.field("case_sensitive", case_sensitive);
    v.field("dot_matches_newline", dot_matches_newline);
    v.require(pattern.empty() != pattern_field.empty(), "pattern", "set exactly one of `pattern` and `pattern_field`");
    if (!pattern.empty()) {
      auto compiled = compile(pattern, *this);
      v.require(compiled->ok(), "pattern", "is not a valid RE2 pattern: " + compiled->error());
    }
  }

  static std::unique_ptr<RE2> compile(const std::string& pattern, const RegexOptions& o) {
    RE2::Options options;
    options.set_case_sensitive(o.case_sensitive);
    options.set_dot_nl(o.dot_matches_newline);
    options.set_log_errors(false);
    return std::make_unique<RE2>(pattern, options);
  }
};

class Regex : public TextRewardModule {
 public:
  explicit Regex(RegexOptions o) : o_(std::move(o)) {
    if (!o_.pattern.empty()) fixed_ = RegexOptions::compile(o_.pattern, o_);
  }

  std::vector<RewardDim> dims() const override { return {{"match", 0.0, 1.0}}; }

  std::vector<double> score_text(const TextItem& item) const override {
    std::unique_ptr<RE2> per_sample;
    const RE2* re = fixed_.get();
    if (!re) {
      per_sample = RegexOptions::compile(record_string(item.sample, o_.pattern_field, "regex"), o_);
      VECRL_CHECK(per_sample->ok(), "regex: the pattern in field '", o_.pattern_field, "' is invalid: ",
                  per_sample->error());
      re = per_sample.get();
    }
    const bool matched = o_.full_match ? RE2::FullMatch(item.text, *re) : RE2::PartialMatch(item.text, *re);
    return {matched ? 1.0 : 0.0};
  }

 private:
  RegexOptions o_;
  std::unique_ptr<RE2> fixed_;
};

VECRL_REGISTER(reward_registry(), "regex", (core::make_configured<RewardModule, RegexOptions, Regex>));

}  // namespace
}  // namespace vecrl::rewards
