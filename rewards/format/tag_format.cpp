// tag_format: R1-style structure, by default <think>…</think><answer>…</answer>: every tag opens
// and closes exactly once, in the configured order, with non-empty contents; with `strict`
// nothing but whitespace may sit outside the tags. Dimensions: `structure` (all of the above) and
// `answer_nonempty` (the last tag has content), so a model gaming one is still seen by the other.
#include "rewards/reward_module.h"
#include "rewards/verifiable/text_match.h"

namespace vecrl::rewards {
namespace {

struct TagFormatOptions {
  std::vector<std::string> tags{"think", "answer"};
  bool strict = true;

  template <class V>
  void visit(V& v) {
    v.field("tags", tags);
    v.field("strict", strict);
    v.require(!tags.empty(), "tags", "needs at least one tag name");
  }
};

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + needle.size())) ++n;
  return n;
}

class TagFormat : public TextRewardModule {
 public:
  explicit TagFormat(TagFormatOptions o) : o_(std::move(o)) {}

  std::vector<RewardDim> dims() const override { return {{"structure", 0.0, 1.0}, {"answer_nonempty", 0.0, 1.0, 0.0}}; }

  std::vector<double> score_text(const TextItem& item) const override {
    const std::string& text = item.text;
    bool ok = true;
    std::size_t cursor = 0;
    std::string last_content;
    for (const auto& tag : o_.tags) {
      const std::string open = "<" + tag + ">", close = "</" + tag + ">";
      if (count_of(text, open) != 1 || count_of(text, close) != 1) {
        ok = false;
        last_content.clear();
        continue;
      }
      const auto begin = text.find(open), end = text.find(close);
      if (begin < cursor || end < begin) {
        ok = false;
        continue;
      }
      const std::string between = text.substr(cursor, begin - cursor);
      if (o_.strict && !trim(between).empty()) ok = false;
      last_content = trim(text.substr(begin + open.size(), end - begin - open.size()));
      if (last_content.empty()) ok = false;
      cursor = end + close.size();
    }
    if (o_.strict && !trim(text.substr(std::min(cursor, text.size()))).empty()) ok = false;
    const std::string& answer_tag = o_.tags.back();
    const bool answer_present = !last_content.empty() && count_of(text, "</" + answer_tag + ">") == 1;
    return {ok ? 1.0 : 0.0, answer_present ? 1.0 : 0.0};
  }

 private:
  TagFormatOptions o_;
};

VECRL_REGISTER(reward_registry(), "tag_format", (core::make_configured<RewardModule, TagFormatOptions, TagFormat>));

}  // namespace
}  // namespace vecrl::rewards
