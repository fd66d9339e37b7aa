// json_format: 1 when the response is valid JSON (optionally inside one ``` / ```json fence) and,
// when `required_keys` is set, an object holding all of them.
#include <nlohmann/json.hpp>

#include "rewards/reward_module.h"
#include "core/json_input.h"
#include "rewards/verifiable/text_match.h"

namespace vecrl::rewards {
namespace {

struct JsonFormatOptions {
  bool allow_code_fence = true;
  std::vector<std::string> required_keys;

  template <class V>
  void visit(V& v) {
    v.field("allow_code_fence", allow_code_fence);
    v.field("required_keys", required_keys);
  }
};

class JsonFormat : public TextRewardModule {
 public:
  explicit JsonFormat(JsonFormatOptions o) : o_(std::move(o)) {}

  std::vector<RewardDim> dims() const override { return {{"valid", 0.0, 1.0}}; }

  std::vector<double> score_text(const TextItem& item) const override {
    std::string body = trim(item.text);
    if (o_.allow_code_fence && body.rfind("```", 0) == 0 && body.size() >= 6 &&
        body.compare(body.size() - 3, 3, "```") == 0) {
      const auto first_newline = body.find('\n');
      if (first_newline == std::string::npos) return {0.0};
      body = body.substr(first_newline + 1, body.size() - 3 - first_newline - 1);
    }
    const auto parsed = core::try_parse_json(body);
    if (parsed.is_discarded()) return {0.0};
    for (const auto& key : o_.required_keys)
      if (!parsed.is_object() || !parsed.contains(key)) return {0.0};
    return {1.0};
  }

 private:
  JsonFormatOptions o_;
};

VECRL_REGISTER(reward_registry(), "json_format",
               (core::make_configured<RewardModule, JsonFormatOptions, JsonFormat>));

}  // namespace
}  // namespace vecrl::rewards
