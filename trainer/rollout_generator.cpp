#include "trainer/rollout_generator.h"

#include <torch/types.h>

#include "agents/agent_loop.h"
#include "models/generation.h"
#include "models/policy_runner.h"
#include "trainer/prompt_dataset.h"

namespace vecrl::trainer {

RolloutGenerator::RolloutGenerator(models::PolicyRunner& runner, const AgentOptions& agent, bool enable_thinking)
    : runner_(runner), agent_(agent), enable_thinking_(enable_thinking) {
  if (agent_.enabled()) environment_ = core::create_component(agents::environment_registry(), agent_.environment);
}

RolloutGenerator::~RolloutGenerator() = default;

core::Rollouts RolloutGenerator::generate(const PromptDataset& data, const std::vector<nlohmann::json>& batch,
                                          bool add_bos, int64_t group_size,
                                          const models::GenerationOptions& options) const {
  const auto& tok = runner_.tokenizer();
  std::vector<std::vector<int64_t>> prompts;
  for (const auto& record : batch) prompts.push_back(models::encode_prompt(tok, data.model_input_of(record), add_bos));
  if (!environment_) return rollouts_from_generation(models::generate(runner_.policy(), prompts, group_size, options),
                                                     group_size, batch, data, tok);
  agents::AgentLoopOptions loop;
  loop.max_turns = agent_.max_turns;
  loop.max_tool_response_tokens = agent_.max_tool_response_tokens;
  loop.workers = static_cast<int>(agent_.workers);
  models::ChatRenderOptions render;
  render.enable_thinking = enable_thinking_;
  const auto policy = agents::policy_of(runner_.policy(), tok, data.chat_format(), render);
  auto episode = agents::run_agent_loop(policy, *environment_, prompts, batch, group_size, options, loop);
  auto r = rollouts_from_generation(episode.generation, group_size, batch, data, tok);
  r.responses = std::move(episode.transcripts);
  const auto device = r.response_ids.device();
  r.tool_calls = episode.tool_calls.to(device);
  r.tool_failures = episode.tool_failures.to(device);
  r.turns = episode.turns.to(device);
  r.check();
  return r;
}

core::MetricMap agent_metrics(const at::Tensor& tool_calls, const at::Tensor& tool_failures, const at::Tensor& turns,
                              const std::string& prefix) {
  core::MetricMap m;
  if (!tool_calls.defined() || tool_calls.numel() == 0) return m;
  auto calls = tool_calls.to(torch::kDouble), failures = tool_failures.to(torch::kDouble), t = turns.to(torch::kDouble);
  m[prefix + "tools/call_frequency"] = calls.mean().item<double>();
  m[prefix + "tools/failure_frequency"] = failures.mean().item<double>();
  m[prefix + "tools/failure_rate"] = failures.sum().item<double>() / std::max(1.0, calls.sum().item<double>());
  m[prefix + "tools/any_call_frac"] = (calls > 0).to(torch::kDouble).mean().item<double>();
  m[prefix + "num_turns/mean"] = t.mean().item<double>();
  m[prefix + "num_turns/max"] = t.max().item<double>();
  m[prefix + "num_turns/min"] = t.min().item<double>();
  return m;
}

}  // namespace vecrl::trainer
