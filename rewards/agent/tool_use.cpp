// tool_use: the agent loop's per-rollout counts as reward dimensions (rollouts from a run with
// `agent.environment`). `efficiency` = 1/(T+1) with T the rollout's tool calls (HDPO's tool reward,
// algorithms.md §4: 1 for an answer without tools, 1/2 after one call, ...); `calls`, `failures`
// and `turns` are reported with weight 0. HDPO conditions the efficiency channel on correctness
// (advantage.condition); for a coupled reward, gate it with transforms: [{type: gate, by: ...}].
#include <ATen/ATen.h>

#include "rewards/reward_module.h"

namespace vecrl::rewards {
namespace {

struct ToolUseOptions {
  template <class V>
  void visit(V&) {}
};

class ToolUse : public RewardModule {
 public:
  explicit ToolUse(ToolUseOptions) {}

  std::vector<RewardDim> dims() const override {
    const double many = 1e9;  // counts have no fixed upper bound
    return {{"efficiency", 0.0, 1.0}, {"calls", 0.0, many, 0.0}, {"failures", 0.0, many, 0.0}, {"turns", 0.0, many, 0.0}};
  }

  core::RewardMatrix score(const ScoreBatch& batch) const override {
    const auto& r = batch.rollouts;
    VECRL_CHECK(r.has_agent_stats(), "tool_use: the rollouts carry no agent-loop counts (configure agent.environment, "
                                     "e.g. {type: tools, tools: [{type: calculator}]})");
    const int64_t n = r.size(), m = batch.answers_per_rollout;
    auto calls = r.tool_calls.to(at::kCPU).to(at::kFloat);
    auto columns = at::stack({1.0 / (calls + 1.0), calls, r.tool_failures.to(at::kCPU).to(at::kFloat),
                              r.turns.to(at::kCPU).to(at::kFloat)},
                             1);  // [N, 4]
    auto matrix = core::RewardMatrix::zeros(n, m, {"efficiency", "calls", "failures", "turns"});
    matrix.values.copy_(columns.unsqueeze(1).expand({n, m, 4}));
    matrix.valid.fill_(true);
    return matrix;
  }
};

}  // namespace

VECRL_REGISTER(reward_registry(), "tool_use", (core::make_configured<RewardModule, ToolUseOptions, ToolUse>));

}  // namespace vecrl::rewards
