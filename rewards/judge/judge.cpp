#include "rewards/judge/judge.h"

#include <cctype>
#include <cmath>

#include "rewards/verifiable/text_match.h"

namespace vecrl::rewards {

JudgeRegistry& judge_registry() {
  static JudgeRegistry registry("judge backend");
  return registry;
}

double p_yes_from_logprobs(double lp_yes, double lp_no) {
  const bool yes = std::isfinite(lp_yes), no = std::isfinite(lp_no);
  VECRL_CHECK(yes || no, "judge: neither 'yes' nor 'no' is among the judge's likely next tokens");
  if (!yes) return 0.0;
  if (!no) return 1.0;
  return 1.0 / (1.0 + std::exp(lp_no - lp_yes));
}

double p_yes_from_reply(const std::string& reply) {
  std::string word;
  for (char c : trim(reply)) {
    if (!std::isalpha(static_cast<unsigned char>(c))) break;
    word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (word == "yes") return 1.0;
  if (word == "no") return 0.0;
  VECRL_CHECK(false, "judge: expected a yes/no reply, got '", reply.substr(0, 80), "'");
  return 0.0;
}

int64_t parse_score(const std::string& reply, int64_t low, int64_t high) {
  for (std::size_t i = 0; i < reply.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(reply[i]))) continue;
    std::size_t j = i;
    while (j < reply.size() && std::isdigit(static_cast<unsigned char>(reply[j]))) ++j;
    const auto value = std::stoll(reply.substr(i, std::min<std::size_t>(j - i, 6)));
    VECRL_CHECK(value >= low && value <= high, "judge: score ", value, " is outside [", low, ", ", high, "]");
    return value;
  }
  VECRL_CHECK(false, "judge: expected a score in [", low, ", ", high, "], got '", reply.substr(0, 80), "'");
  return 0;
}

}  // namespace vecrl::rewards
