#pragma once
// Multi-turn rollouts: the policy writes a turn; when the turn calls a tool (the environment's stop
// strings pause generation there), the environment answers, its tool-response turn is appended in
// the model's chat format and generation resumes — until the policy answers, max_turns turns were
// written, or the response budget (GenerationOptions::max_new_tokens, tool responses included) is
// spent. The rollouts of a batch are generated together turn by turn: the first turn shares each
// prompt's prefill across its group as plain generation does; later turns batch every rollout that
// is still going, each with its own context. Tool-response tokens are context for the policy but
// not its actions: the mask is false on them.
#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

#include "agents/environment.h"
#include "models/chat/chat_format.h"
#include "models/generation.h"
#include "models/tokenizer.h"

namespace vecrl::agents {

struct AgentLoopOptions {
  int64_t max_turns = 4;                   // assistant turns per rollout, the answer included
  int64_t max_tool_response_tokens = 256;  // a longer tool output is cut to this many tokens
  int workers = 4;                         // threads running the environment's steps (tool calls)
};

struct AgentGeneration {
  models::Generation generation;  // mask: the policy's tokens only (false on tool responses)
  at::Tensor tool_calls;          // [N] int64 tool calls (malformed ones included)
  at::Tensor tool_failures;       // [N] int64 calls that failed
  at::Tensor turns;               // [N] int64 assistant turns written
  std::vector<std::string> transcripts;  // N responses as text: turns and tool-response turns
};

// Generates G continuations of each context (models::generate's contract).
using GenerateFn = std::function<models::Generation(const std::vector<std::vector<int64_t>>& contexts,
                                                    int64_t group_size, const models::GenerationOptions& options)>;

// The policy and what the loop needs around it.
struct AgentPolicy {
  GenerateFn generate;               // the model's generate, or a scripted stand-in in tests
  int64_t max_positions = 0;         // the model's context length
  const models::Tokenizer& tokenizer;
  const models::ChatFormat& chat;
  models::ChatRenderOptions render;  // enable_thinking for the assistant headers
};

// The AgentPolicy of a model: models::generate on it.
AgentPolicy policy_of(models::CausalLM& model, const models::Tokenizer& tokenizer, const models::ChatFormat& chat,
                      const models::ChatRenderOptions& render);

// prompts: P token lists; samples: their P dataset records (the episodes' inputs). Returns
// N = P * group_size rows, groups contiguous. `generation` gives the sampler, seeds, stop ids and
// strings (the environment's are added) and the response budget. Same seeds, same outputs.
AgentGeneration run_agent_loop(const AgentPolicy& policy, const Environment& environment,
                               const std::vector<std::vector<int64_t>>& prompts,
                               const std::vector<nlohmann::json>& samples, int64_t group_size,
                               const models::GenerationOptions& generation, const AgentLoopOptions& options);

}  // namespace vecrl::agents
