#pragma once
// Rollouts of a batch of dataset records, for training and evaluation alike: one-turn generation,
// or the agent loop when the run has an `agent.environment`.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <vector>

#include "core/batch.h"
#include "core/metrics.h"
#include "trainer/run_config.h"

namespace vecrl::agents {
class Environment;
}
namespace vecrl::models {
class PolicyRunner;
struct GenerationOptions;
}  // namespace vecrl::models

namespace vecrl::trainer {

class PromptDataset;

class RolloutGenerator {
 public:
  // Builds the environment of `agent` when it has one (its config errors surface here).
  RolloutGenerator(models::PolicyRunner& runner, const AgentOptions& agent, bool enable_thinking);
  ~RolloutGenerator();

  // group_size rollouts per record of `batch`, prompts rendered by `data` (BOS when add_bos);
  // `options` gives the sampler, budget, seeds, stops and padding.
  core::Rollouts generate(const PromptDataset& data, const std::vector<nlohmann::json>& batch, bool add_bos,
                          int64_t group_size, const models::GenerationOptions& options) const;

  bool multi_turn() const { return environment_ != nullptr; }

 private:
  models::PolicyRunner& runner_;
  AgentOptions agent_;
  bool enable_thinking_;
  std::unique_ptr<agents::Environment> environment_;
};

// Agent-loop metrics of a batch (verl-tool names), or nothing for one-turn rollouts; per-rollout
// inputs are [N] int64 of the whole (all-rank) batch. tools/call_frequency: mean tool calls per
// rollout; tools/failure_frequency: mean failed calls per rollout; tools/failure_rate: failed /
// all calls; tools/any_call_frac: rollouts with a call; num_turns/{mean,max,min}.
core::MetricMap agent_metrics(const at::Tensor& tool_calls, const at::Tensor& tool_failures, const at::Tensor& turns,
                              const std::string& prefix = "");

}  // namespace vecrl::trainer
