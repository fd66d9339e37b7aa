// HDPO (Metis, arXiv 2604.08545; official code, algorithms.md §4): two advantage channels that are
// never scalarised.
//   primary     — GRPO of sum_{k in primary} w_k r_k over all rollouts of the group;
//   conditional — GRPO of sum_{k in conditional} w_k r_k over the qualifying rollouts Q, those that
//                 pass `condition` (e.g. "correct>=1"); |Q| < 2 gives 0 for the whole group, and
//                 rollouts outside Q get 0.
// The loss runs one term per channel, weighted primary_weight / conditional_weight, each with its
// own token normaliser: the conditional term covers only rollouts whose conditional advantage is
// non-zero (all rollouts when none is, where its loss is 0 anyway), as the official code does.
// KL in the reward goes into the primary channel's reward only (the conditional channel compares
// correct rollouts on efficiency); KL and entropy in the loss are added once, not per channel.
#include <ATen/ATen.h>

#include <regex>

#include "algorithms/advantage.h"
#include "algorithms/group_stats.h"

namespace vecrl::algorithms {
namespace {

struct Condition {
  std::string dimension;
  std::string op;
  double threshold = 0;
};

Condition parse_condition(const std::string& text) {
  static const std::regex pattern(R"(^\s*([^<>=!\s]+)\s*(>=|<=|==|!=|>|<)\s*([-+0-9.eE]+)\s*$)");
  std::smatch m;
  VECRL_CHECK(std::regex_match(text, m, pattern), "expected 'dimension OP number' with OP one of >= > <= < == !=, found '",
              text, "'");
  return {m[1], m[2], std::stod(m[3])};
}

at::Tensor apply_condition(const at::Tensor& v, const Condition& c) {
  if (c.op == ">=") return v >= c.threshold;
  if (c.op == ">") return v > c.threshold;
  if (c.op == "<=") return v <= c.threshold;
  if (c.op == "<") return v < c.threshold;
  if (c.op == "==") return v == c.threshold;
  return v != c.threshold;
}

struct HdpoOptions {
  std::string condition;                 // e.g. "correct>=1": which rollouts qualify
  std::vector<std::string> conditional;  // dimensions of the conditional channel
  std::vector<std::string> primary;      // dimensions of the primary channel; empty = all others
  double primary_weight = 1.0;
  double conditional_weight = 0.15;
  StdKind std = StdKind::kUnbiased;
  double eps = 1e-6;

  template <class V>
  void visit(V& v) {
    v.field("condition", condition);
    v.field("conditional", conditional);
    v.field("primary", primary);
    v.field("primary_weight", primary_weight);
    v.field("conditional_weight", conditional_weight);
    v.choice("std", std, std_kind_names());
    v.field("eps", eps);
    v.require(!condition.empty(), "condition", "is required, e.g. correct>=1");
    try {
      parse_condition(condition);
    } catch (const core::Error& e) {
      v.fail("condition", e.what());
    }
    v.require(!conditional.empty(), "conditional", "needs at least one dimension, e.g. [efficiency]");
    v.require(primary_weight >= 0 && conditional_weight >= 0, "conditional_weight", "weights must be >= 0");
    v.require(eps >= 0, "eps", core::str_cat("must be >= 0, got ", eps));
  }
};

class Hdpo : public AdvantageEstimator {
 public:
  explicit Hdpo(HdpoOptions options) : options_(std::move(options)), condition_(parse_condition(options_.condition)) {}

  core::Advantages compute(const AdvantageInput& input) const override {
    const auto c = channels(input);
    const int64_t G = input.group_size, P = input.num_groups();
    auto a_primary = group_normalize(c.primary.view({P, G}), c.primary_valid.view({P, G}), options_.std, options_.eps, true);
    auto a_cond = group_normalize(c.conditional.view({P, G}), c.qualifies.view({P, G}), options_.std, options_.eps, true);

    core::Advantages out;
    out.channels = {"primary", "conditional"};
    out.values = at::stack({a_primary.reshape({-1}), a_cond.reshape({-1})}).to(at::kFloat);
    auto cond_rows = out.values[1] != 0;
    if (!cond_rows.any().item<bool>()) cond_rows = at::ones_like(cond_rows);
    out.rollout_mask = at::stack({at::ones_like(cond_rows), cond_rows});
    out.channel_weights = {options_.primary_weight, options_.conditional_weight};
    return out;
  }

  KlInReward kl_in_reward() const override { return KlInReward::kOnCombinedReward; }

  // A group has signal when its primary reward varies or its qualifying rollouts (two or more)
  // differ in the conditional reward.
  at::Tensor group_has_signal(const AdvantageInput& input) const override {
    AdvantageInput task{input.rewards,        input.weights, input.group_size, input.response_mask,
                        input.all_reduce_sum, at::Tensor(),  input.group_keys};
    const auto c = channels(task);
    const int64_t G = input.group_size, P = input.num_groups();
    return varies_in_group(c.primary.view({P, G}), c.primary_valid.view({P, G}))
        .logical_or(varies_in_group(c.conditional.view({P, G}), c.qualifies.view({P, G})));
  }

 private:
  struct Channels {
    at::Tensor primary, primary_valid;   // [N] the primary reward (KL-penalised when on) and validity
    at::Tensor conditional, qualifies;   // [N] the conditional reward and the qualifying rollouts Q
  };

  Channels channels(const AdvantageInput& input) const {
    check_input(input);
    const auto& r = input.rewards;
    const int64_t K = r.dims();
    std::vector<bool> is_conditional(K, false), is_primary(K, false);
    for (const auto& name : options_.conditional) is_conditional[find_dimension(r, name)] = true;
    if (options_.primary.empty()) {
      for (int64_t k = 0; k < K; ++k) is_primary[k] = !is_conditional[k];
    } else {
      for (const auto& name : options_.primary) is_primary[find_dimension(r, name)] = true;
    }
    auto channel_reward = [&](const std::vector<bool>& member, const at::Tensor& penalty) {
      std::vector<double> w(input.weights);
      for (int64_t k = 0; k < K; ++k)
        if (!member[k]) w[k] = 0;
      AdvantageInput sub{r, w, input.group_size, input.response_mask, input.all_reduce_sum, penalty, input.group_keys};
      return weighted_scalar_reward(sub);
    };
    Channels c;
    std::tie(c.primary, c.primary_valid) = channel_reward(is_primary, input.token_penalty);
    at::Tensor cond_valid;
    std::tie(c.conditional, cond_valid) = channel_reward(is_conditional, at::Tensor());
    const int64_t d = find_dimension(r, condition_.dimension);
    c.qualifies = apply_condition(r.values.select(1, 0).select(1, d), condition_)
                      .logical_and(r.valid.select(1, 0).select(1, d))
                      .logical_and(cond_valid);
    return c;
  }

  HdpoOptions options_;
  Condition condition_;
};

VECRL_REGISTER(advantage_registry(), "hdpo", (core::make_configured<AdvantageEstimator, HdpoOptions, Hdpo>));

}  // namespace
}  // namespace vecrl::algorithms
