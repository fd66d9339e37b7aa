#include "agents/agent_loop.h"

#include <torch/types.h>

#include <algorithm>

#include "core/error.h"
#include "core/parallel.h"
#include "core/seeds.h"

namespace vecrl::agents {
namespace {

// One rollout's growing response.
struct Row {
  std::vector<int64_t> context;          // prompt then response so far (what the model reads next)
  std::vector<int64_t> tokens;           // the response: the policy's turns and the tool responses
  std::vector<bool> mask;                // true on the policy's tokens
  std::vector<float> logprobs;           // behaviour log-probs (0 on tool responses)
  std::unique_ptr<Episode> episode;
  uint64_t seed = 0;                     // the rollout's sample seed; turn k > 0 draws from a mix of it
  int64_t calls = 0, failures = 0, turns = 0;
  bool active = true, truncated = false;
};

// The tokens of a tool output, cut to `limit` tokens (a marker says so).
std::string clip_to_tokens(const models::Tokenizer& tok, const std::string& text, int64_t limit) {
  auto ids = tok.encode(text);
  if (static_cast<int64_t>(ids.size()) <= limit) return text;
  ids.resize(static_cast<std::size_t>(limit));
  return tok.decode(ids) + " ...[cut]";
}

}  // namespace

AgentPolicy policy_of(models::CausalLM& model, const models::Tokenizer& tokenizer, const models::ChatFormat& chat,
                      const models::ChatRenderOptions& render) {
  return AgentPolicy{[model](const std::vector<std::vector<int64_t>>& contexts, int64_t group_size,
                             const models::GenerationOptions& options) mutable {
                       return models::generate(model, contexts, group_size, options);
                     },
                     model->config().max_position_embeddings, tokenizer, chat, render};
}

AgentGeneration run_agent_loop(const AgentPolicy& policy, const Environment& environment,
                               const std::vector<std::vector<int64_t>>& prompts,
                               const std::vector<nlohmann::json>& samples, int64_t group_size,
                               const models::GenerationOptions& generation, const AgentLoopOptions& options) {
  const int64_t P = static_cast<int64_t>(prompts.size()), G = group_size, N = P * G;
  VECRL_CHECK(P > 0 && static_cast<int64_t>(samples.size()) == P, "agent loop: ", P, " prompts and ",
              samples.size(), " samples");
  VECRL_CHECK(options.max_turns >= 1, "agent loop: max_turns must be >= 1, got ", options.max_turns);
  const auto& tok = policy.tokenizer;
  const int64_t budget = generation.max_new_tokens;
  const int64_t max_positions = policy.max_positions;

  models::GenerationOptions turn_options = generation;
  for (const auto& s : environment.stop_strings())
    if (std::find(turn_options.stop_strings.begin(), turn_options.stop_strings.end(), s) == turn_options.stop_strings.end())
      turn_options.stop_strings.push_back(s);
  if (!turn_options.decode) turn_options.decode = [&tok](const std::vector<int64_t>& ids) { return tok.decode(ids); };
  const auto& stop_ids = generation.stop_token_ids;

  std::vector<Row> rows(static_cast<std::size_t>(N));
  for (int64_t i = 0; i < N; ++i) {
    auto& row = rows[static_cast<std::size_t>(i)];
    row.context = prompts[static_cast<std::size_t>(i / G)];
    row.seed = generation.sample_seeds.empty() ? models::sample_seed(models::prompt_seed(generation, i / G), i % G)
                                               : generation.sample_seeds[static_cast<std::size_t>(i)];
  }
  core::parallel_for(N, options.workers, [&](int64_t i) {
    rows[static_cast<std::size_t>(i)].episode = environment.reset(samples[static_cast<std::size_t>(i / G)]);
  });

  torch::Device device(torch::kCPU);  // the policy's, as its generations report it
  for (int64_t turn = 0; turn < options.max_turns; ++turn) {
    std::vector<int64_t> active;
    int64_t longest_context = 0, most_left = 0;
    for (int64_t i = 0; i < N; ++i) {
      const auto& row = rows[static_cast<std::size_t>(i)];
      if (!row.active) continue;
      active.push_back(i);
      longest_context = std::max<int64_t>(longest_context, static_cast<int64_t>(row.context.size()));
      most_left = std::max<int64_t>(most_left, budget - static_cast<int64_t>(row.tokens.size()));
    }
    if (active.empty()) break;
    turn_options.max_new_tokens = std::min(most_left, max_positions - longest_context);
    if (turn_options.max_new_tokens < 1) {  // no room left in the model's context
      for (auto i : active) rows[static_cast<std::size_t>(i)].active = false, rows[static_cast<std::size_t>(i)].truncated = true;
      break;
    }
    // Turn 0 shares each prompt's prefill across its group; later turns have one context per row.
    models::Generation gen;
    if (turn == 0) {
      gen = policy.generate(prompts, G, turn_options);
    } else {
      std::vector<std::vector<int64_t>> contexts;
      turn_options.prompt_seeds.clear();
      turn_options.sample_seeds.clear();
      for (auto i : active) {
        contexts.push_back(rows[static_cast<std::size_t>(i)].context);
        turn_options.sample_seeds.push_back(core::agent_turn_seed(rows[static_cast<std::size_t>(i)].seed, turn));
      }
      gen = policy.generate(contexts, 1, turn_options);
    }
    device = gen.tokens.device();
    auto tokens_cpu = gen.tokens.to(torch::kCPU).contiguous();
    auto mask_cpu = gen.mask.to(torch::kCPU).contiguous();
    auto logprobs_cpu = gen.logprobs.to(torch::kCPU).contiguous();
    auto tokens = tokens_cpu.accessor<int64_t, 2>();
    auto mask = mask_cpu.accessor<bool, 2>();
    auto logprobs = logprobs_cpu.accessor<float, 2>();

    // Append each row's turn (cut to its own remaining budget) and collect the turns to answer.
    std::vector<int64_t> to_step;
    std::vector<std::string> turn_texts(static_cast<std::size_t>(N));
    std::vector<bool> turn_closed(static_cast<std::size_t>(N), false);
    for (std::size_t a = 0; a < active.size(); ++a) {
      auto& row = rows[static_cast<std::size_t>(active[a])];
      const auto r = static_cast<int64_t>(a);
      const int64_t left = budget - static_cast<int64_t>(row.tokens.size());
      std::vector<int64_t> ids;
      for (int64_t t = 0; t < tokens.size(1) && mask[r][t] && static_cast<int64_t>(ids.size()) < left; ++t) {
        ids.push_back(tokens[r][t]);
        row.logprobs.push_back(logprobs[r][t]);
        row.mask.push_back(true);
      }
      row.tokens.insert(row.tokens.end(), ids.begin(), ids.end());
      row.context.insert(row.context.end(), ids.begin(), ids.end());
      row.turns += 1;
      const bool closed = !ids.empty() && std::find(stop_ids.begin(), stop_ids.end(), ids.back()) != stop_ids.end();
      const auto text = tok.decode(ids);
      bool paused = false;  // stopped at one of the environment's stop strings
      for (const auto& s : turn_options.stop_strings) paused = paused || text.find(s) != std::string::npos;
      if (!closed && !paused) {  // the budget ran out mid-turn
        row.active = false;
        row.truncated = true;
        continue;
      }
      turn_texts[static_cast<std::size_t>(active[a])] = text;
      turn_closed[static_cast<std::size_t>(active[a])] = closed;
      to_step.push_back(active[a]);
    }

    std::vector<EnvStep> steps(static_cast<std::size_t>(N));
    core::parallel_for(static_cast<int64_t>(to_step.size()), options.workers, [&](int64_t k) {
      const auto i = static_cast<std::size_t>(to_step[static_cast<std::size_t>(k)]);
      steps[i] = rows[i].episode->step(turn_texts[i]);
    });

    for (auto i : to_step) {
      auto& row = rows[static_cast<std::size_t>(i)];
      const auto& step = steps[static_cast<std::size_t>(i)];
      row.calls += step.tool_call ? 1 : 0;
      row.failures += step.tool_call && step.failed ? 1 : 0;
      if (step.done || row.turns >= options.max_turns) {
        row.active = false;
        continue;
      }
      const auto exchange = models::tool_exchange(policy.chat, clip_to_tokens(tok, step.observation, options.max_tool_response_tokens),
                                                  turn_closed[static_cast<std::size_t>(i)], policy.render);
      const auto ids = tok.encode(exchange);
      if (static_cast<int64_t>(row.tokens.size() + ids.size()) >= budget) {  // no room for another turn
        row.active = false;
        row.truncated = true;
        continue;
      }
      row.tokens.insert(row.tokens.end(), ids.begin(), ids.end());
      row.context.insert(row.context.end(), ids.begin(), ids.end());
      row.mask.insert(row.mask.end(), ids.size(), false);
      row.logprobs.insert(row.logprobs.end(), ids.size(), 0.0f);
    }
  }

  // Assemble [N, T] tensors, right-padded, on the policy's device.
  int64_t T = 1;
  for (const auto& row : rows) T = std::max<int64_t>(T, static_cast<int64_t>(row.tokens.size()));
  AgentGeneration out;
  auto token_t = torch::full({N, T}, generation.pad_token_id, torch::kLong);
  auto mask_t = torch::zeros({N, T}, torch::kBool);
  auto logprob_t = torch::zeros({N, T}, torch::kFloat);
  auto truncated = torch::zeros({N}, torch::kBool);
  out.tool_calls = torch::zeros({N}, torch::kLong);
  out.tool_failures = torch::zeros({N}, torch::kLong);
  out.turns = torch::zeros({N}, torch::kLong);
  for (int64_t i = 0; i < N; ++i) {
    const auto& row = rows[static_cast<std::size_t>(i)];
    const auto len = static_cast<int64_t>(row.tokens.size());
    if (len > 0) {
      token_t[i].narrow(0, 0, len).copy_(torch::tensor(row.tokens, torch::kLong));
      mask_t[i].narrow(0, 0, len).copy_(torch::tensor(std::vector<uint8_t>(row.mask.begin(), row.mask.end())).to(torch::kBool));
      logprob_t[i].narrow(0, 0, len).copy_(torch::tensor(row.logprobs, torch::kFloat));
    }
    truncated[i] = row.truncated;
    out.tool_calls[i] = row.calls;
    out.tool_failures[i] = row.failures;
    out.turns[i] = row.turns;
    std::vector<int64_t> text_ids;
    for (auto id : row.tokens)
      if (std::find(stop_ids.begin(), stop_ids.end(), id) == stop_ids.end()) text_ids.push_back(id);
    out.transcripts.push_back(tok.decode(text_ids));
  }
  auto [prompt_ids, prompt_mask] = models::left_pad(prompts, generation.pad_token_id);
  out.generation.prompt_ids = prompt_ids.repeat_interleave(G, 0).to(device);
  out.generation.prompt_mask = prompt_mask.repeat_interleave(G, 0).to(device);
  out.generation.tokens = token_t.to(device);
  out.generation.mask = mask_t.to(device);
  out.generation.logprobs = logprob_t.to(device);
  out.generation.truncated = truncated.to(device);
  return out;
}

}  // namespace vecrl::agents
