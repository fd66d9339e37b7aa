// The agent loop driven by a scripted policy (fixed turns per rollout) with the real Qwen3
// tokenizer and ChatML: tool calls, failures, max turns, the budget, masks over exactly the
// tool-response tokens, the counts in the reward matrix, and HDPO on the resulting batch; then a
// real model (stories260K) through the same loop.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "agents/agent_loop.h"
#include "agents/tool_call.h"
#include "algorithms/advantage.h"
#include "models/hf_checkpoint.h"
#include "rewards/reward_set.h"

namespace vecrl::agents {
namespace {

const std::string kShared = VECRL_SHARED_DATA;

std::string call(const std::string& expression) {
  return "<tool_call>{\"name\": \"calculator\", \"arguments\": {\"expression\": \"" + expression + "\"}}</tool_call>";
}

// Turn k of rollout i is scripts[i][k] (the last one repeats). A row is recognised at later turns by
// its first turn's text, which must be unique; k is the number of tool responses in its context.
class ScriptedPolicy {
 public:
  ScriptedPolicy(const models::Tokenizer& tok, std::vector<std::vector<std::string>> scripts)
      : tok_(tok), scripts_(std::move(scripts)) {}

  models::Generation operator()(const std::vector<std::vector<int64_t>>& contexts, int64_t G,
                                const models::GenerationOptions& options) {
    ++calls_;
    std::vector<std::vector<int64_t>> rows;
    for (std::size_t p = 0; p < contexts.size(); ++p) {
      const auto context = tok_.decode(contexts[p]);
      for (int64_t j = 0; j < G; ++j) {
        std::size_t script = 0, turn = 0;
        if (G > 1 || context.find("<tool_response>") == std::string::npos) {
          script = p * static_cast<std::size_t>(G) + static_cast<std::size_t>(j);
        } else {
          while (context.find(scripts_[script][0]) == std::string::npos) ++script;
          for (auto at = context.find("<tool_response>"); at != std::string::npos; at = context.find("<tool_response>", at + 1))
            ++turn;
        }
        const auto& turns = scripts_.at(script);
        const auto& text = turns[std::min(turn, turns.size() - 1)];
        auto ids = tok_.encode(text);
        if (text.find("</tool_call>") == std::string::npos) ids.push_back(tok_.token_id("<|im_end|>"));
        if (static_cast<int64_t>(ids.size()) > options.max_new_tokens) ids.resize(static_cast<std::size_t>(options.max_new_tokens));
        rows.push_back(ids);
      }
    }
    int64_t T = 1;
    for (const auto& r : rows) T = std::max<int64_t>(T, static_cast<int64_t>(r.size()));
    const auto N = static_cast<int64_t>(rows.size());
    models::Generation g;
    g.tokens = torch::full({N, T}, options.pad_token_id, torch::kLong);
    g.mask = torch::zeros({N, T}, torch::kBool);
    g.logprobs = torch::zeros({N, T});
    g.truncated = torch::zeros({N}, torch::kBool);
    for (int64_t i = 0; i < N; ++i) {
      const auto len = static_cast<int64_t>(rows[i].size());
      g.tokens[i].narrow(0, 0, len).copy_(torch::tensor(rows[i], torch::kLong));
      g.mask[i].narrow(0, 0, len).fill_(true);
      g.logprobs[i].narrow(0, 0, len).fill_(-0.25);
    }
    return g;
  }
  int calls() const { return calls_; }

 private:
  const models::Tokenizer& tok_;
  std::vector<std::vector<std::string>> scripts_;
  int calls_ = 0;
};

std::unique_ptr<Environment> calculator_environment() {
  core::ConfigNode node(YAML::Load("{tools: [{type: calculator}]}"), "test");
  return environment_registry().create("tools", node);
}

class AgentLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tok = models::load_tokenizer(kShared + "/tokenizers/qwen3");
    chat = models::chat_format_registry().create("chatml");
    env = calculator_environment();
  }

  AgentGeneration run(ScriptedPolicy& scripted, int64_t prompts, int64_t G, int64_t budget = 400, int64_t max_turns = 4) {
    AgentPolicy policy{[&](const auto& c, int64_t g, const auto& o) { return scripted(c, g, o); }, 4096, *tok, *chat, {}};
    models::GenerationOptions g;
    g.max_new_tokens = budget;
    g.stop_token_ids = models::stop_token_ids(*chat, *tok);
    g.pad_token_id = tok->eos_id();
    std::vector<std::vector<int64_t>> ids;
    std::vector<nlohmann::json> samples;
    for (int64_t p = 0; p < prompts; ++p) {
      ids.push_back(tok->encode(chat->render({{"user", "What is 12*7? #" + std::to_string(p)}}, {})));
      samples.push_back({{"answer", "84"}});
    }
    AgentLoopOptions options;
    options.max_turns = max_turns;
    return run_agent_loop(policy, *env, ids, samples, G, g, options);
  }

  std::vector<int64_t> row_tokens(const AgentGeneration& out, int64_t i) {
    std::vector<int64_t> ids;
    for (int64_t t = 0; t < out.generation.tokens.size(1); ++t)
      if (t < out.generation.mask.size(1) && (out.generation.mask[i][t].item<bool>() || t < last_real(out, i)))
        ids.push_back(out.generation.tokens[i][t].item<int64_t>());
    return ids;
  }
  static int64_t last_real(const AgentGeneration& out, int64_t i) {  // 1 + the last policy token
    int64_t last = 0;
    for (int64_t t = 0; t < out.generation.mask.size(1); ++t)
      if (out.generation.mask[i][t].item<bool>()) last = t + 1;
    return last;
  }
  std::vector<int64_t> exchange(const std::string& output) {
    return tok->encode(models::tool_exchange(*chat, output, false, {}));
  }
  std::vector<int64_t> turn_ids(const std::string& text, bool final_turn) {
    auto ids = tok->encode(text);
    if (final_turn) ids.push_back(tok->token_id("<|im_end|>"));
    return ids;
  }

  std::unique_ptr<models::Tokenizer> tok;
  std::unique_ptr<models::ChatFormat> chat;
  std::unique_ptr<Environment> env;
};

std::vector<int64_t> joined(std::initializer_list<std::vector<int64_t>> parts) {
  std::vector<int64_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST_F(AgentLoopTest, ZeroOneTwoAndMaxTurnsOfToolCalls) {
  ScriptedPolicy scripted(*tok, {{"Direct: \\boxed{84}"},
                                 {"One. " + call("12*7"), "So \\boxed{84}"},
                                 {"Two. " + call("12*5"), call("60+24"), "Then \\boxed{84}"},
                                 {"Loop. " + call("1+1")}});
  auto out = run(scripted, 1, 4, 400, /*max_turns=*/3);
  EXPECT_EQ(scripted.calls(), 3);  // turn 0 for the group, then the rows still going, batched
  EXPECT_EQ(std::vector<int64_t>(out.tool_calls.data_ptr<int64_t>(), out.tool_calls.data_ptr<int64_t>() + 4),
            (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(std::vector<int64_t>(out.turns.data_ptr<int64_t>(), out.turns.data_ptr<int64_t>() + 4),
            (std::vector<int64_t>{1, 2, 3, 3}));
  EXPECT_EQ(out.tool_failures.sum().item<int64_t>(), 0);
  EXPECT_FALSE(out.generation.truncated.any().item<bool>());  // max_turns ends a rollout, it does not truncate it

  // Row 1: its turn, the tool exchange (masked out), its answer — token for token.
  const auto t1 = turn_ids("One. " + call("12*7"), false), ex = exchange("84"), t2 = turn_ids("So \\boxed{84}", true);
  const auto expected = joined({t1, ex, t2});
  const auto len = static_cast<int64_t>(expected.size());
  EXPECT_EQ(out.generation.tokens[1].narrow(0, 0, len).equal(torch::tensor(expected, torch::kLong)), true);
  for (int64_t t = 0; t < out.generation.tokens.size(1); ++t) {
    const bool tool_span = t >= static_cast<int64_t>(t1.size()) && t < static_cast<int64_t>(t1.size() + ex.size());
    const bool policy_token = t < len && !tool_span;
    EXPECT_EQ(out.generation.mask[1][t].item<bool>(), policy_token) << "position " << t;
    EXPECT_FLOAT_EQ(out.generation.logprobs[1][t].item<float>(), policy_token ? -0.25f : 0.0f) << "position " << t;
  }
  EXPECT_NE(out.transcripts[1].find("<tool_response>\n84\n</tool_response>"), std::string::npos) << out.transcripts[1];
  EXPECT_NE(out.transcripts[2].find("<tool_response>\n60\n</tool_response>"), std::string::npos);
  EXPECT_NE(out.transcripts[2].find("<tool_response>\n84\n</tool_response>"), std::string::npos);
  // Row 0 never called: nothing masked inside it.
  EXPECT_EQ(out.generation.mask[0].sum().item<int64_t>(), static_cast<int64_t>(turn_ids("Direct: \\boxed{84}", true).size()));
  // Row 3 hit max_turns: three calls, two tool responses (none after the last turn).
  EXPECT_EQ(static_cast<int64_t>(std::count(out.transcripts[3].begin(), out.transcripts[3].end(), '\n')) > 0, true);
  std::size_t responses = 0;
  for (auto at = out.transcripts[3].find("<tool_response>"); at != std::string::npos; at = out.transcripts[3].find("<tool_response>", at + 1))
    ++responses;
  EXPECT_EQ(responses, 2u);
}

TEST_F(AgentLoopTest, MalformedCallsAndToolErrorsAreMessagesNotCrashes) {
  ScriptedPolicy scripted(*tok, {{"Bad json <tool_call>{\"name\": calculator}</tool_call>", "a \\boxed{1}"},
                                 {"Unknown <tool_call>{\"name\": \"browser\", \"arguments\": {}}</tool_call>", "b \\boxed{2}"},
                                 {"Code " + call("__import__('os')"), "c \\boxed{3}"},
                                 {"No args <tool_call>{\"name\": \"calculator\"}</tool_call>", "d \\boxed{4}"}});
  auto out = run(scripted, 1, 4);
  EXPECT_EQ(out.tool_calls.sum().item<int64_t>(), 4);
  EXPECT_EQ(out.tool_failures.sum().item<int64_t>(), 4);
  EXPECT_EQ(out.turns.sum().item<int64_t>(), 8);
  EXPECT_NE(out.transcripts[0].find("error: malformed tool call: the body must be a JSON object"), std::string::npos)
      << out.transcripts[0];
  EXPECT_NE(out.transcripts[1].find("error: unknown tool 'browser'; available: calculator"), std::string::npos);
  EXPECT_NE(out.transcripts[2].find("error: calculator: expected a number, found '_'"), std::string::npos);
  EXPECT_NE(out.transcripts[3].find("error: calculator: missing argument \"expression\""), std::string::npos);
  for (int64_t i = 0; i < 4; ++i) EXPECT_NE(out.transcripts[i].find("\\boxed{" + std::to_string(i + 1) + "}"), std::string::npos);
}

TEST_F(AgentLoopTest, TheBudgetCountsToolResponsesAndTruncates) {
  ScriptedPolicy scripted(*tok, {{"Two. " + call("12*5"), call("60+24"), "Then \\boxed{84}"}});
  const auto t1 = turn_ids("Two. " + call("12*5"), false);
  const auto budget = static_cast<int64_t>(t1.size() + exchange("60").size() + 5);  // cut inside the second call
  auto out = run(scripted, 1, 1, budget);
  EXPECT_TRUE(out.generation.truncated[0].item<bool>());
  EXPECT_EQ(out.turns[0].item<int64_t>(), 2);
  EXPECT_EQ(out.tool_calls[0].item<int64_t>(), 1);  // the cut second turn is not a call
  EXPECT_EQ(out.generation.tokens.size(1), budget);
  EXPECT_EQ(out.generation.mask[0].sum().item<int64_t>(), static_cast<int64_t>(t1.size()) + 5);
}

TEST_F(AgentLoopTest, CountsReachTheRewardMatrixAndHdpoMasksTheToolChannel) {
  // algorithms.md §4's worked example as real rollouts: answers [1, 1, 1, 0], tool calls [0, 2, 1, 0].
  ScriptedPolicy scripted(*tok, {{"A \\boxed{84}"},
                                 {"B " + call("12*5"), call("60+24"), "\\boxed{84}"},
                                 {"C " + call("12*7"), "\\boxed{84}"},
                                 {"D \\boxed{85}"}});
  auto out = run(scripted, 1, 4);
  core::Rollouts r;
  r.group_size = 4;
  r.prompt_ids = out.generation.prompt_ids;
  r.prompt_mask = out.generation.prompt_mask;
  r.response_ids = out.generation.tokens;
  r.response_mask = out.generation.mask;
  r.behaviour_logprobs = out.generation.logprobs;
  r.truncated = out.generation.truncated;
  r.tool_calls = out.tool_calls;
  r.tool_failures = out.tool_failures;
  r.turns = out.turns;
  r.responses = out.transcripts;
  r.prompts = std::vector<std::string>(4, "What is 12*7?");
  r.samples = std::vector<nlohmann::json>(4, {{"answer", "84"}});
  r.check();

  core::ConfigNode root(YAML::Load("rewards: [{type: math, name: answer, require_boxed: true}, {type: tool_use, name: tools}]"),
                        "test.yaml");
  std::vector<core::ComponentSpec> specs;
  root.component_list("rewards", specs);
  rewards::RewardSet set(specs, {});
  auto scored = set.score(r);
  auto calls = scored.values.select(1, 0).select(1, scored.index_of("tools/calls"));
  EXPECT_TRUE(calls.equal(torch::tensor({0.0f, 2.0f, 1.0f, 0.0f})));
  auto efficiency = scored.values.select(1, 0).select(1, scored.index_of("tools/efficiency"));
  EXPECT_TRUE(torch::allclose(efficiency, torch::tensor({1.0f, 1.0f / 3, 0.5f, 1.0f})));

  core::ConfigNode node(YAML::Load("{condition: answer/correct>=1, conditional: [tools/efficiency], primary: [answer/correct]}"), "t");
  auto hdpo = algorithms::advantage_registry().create("hdpo", node);
  auto adv = hdpo->compute({scored, set.weights(), 4, r.response_mask, {}});
  ASSERT_EQ(adv.num_channels(), 2);
  EXPECT_TRUE(torch::allclose(adv.values[0], torch::tensor({0.5f, 0.5f, 0.5f, -1.5f}), 1e-4, 1e-4)) << adv.values[0];
  EXPECT_TRUE(torch::allclose(adv.values[1], torch::tensor({1.1209f, -0.8006f, -0.3203f, 0.0f}), 1e-4, 1e-4)) << adv.values[1];
  // The tool channel's loss covers the qualifying rollouts' own tokens only: no tool responses, no row 3.
  auto mask = adv.loss_mask(1, r.response_mask);
  EXPECT_EQ(mask.sum().item<int64_t>(), r.response_mask.narrow(0, 0, 3).sum().item<int64_t>());
  EXPECT_FALSE(mask[3].any().item<bool>());
  EXPECT_LT(mask[1].sum().item<int64_t>(), (r.response_ids[1] != tok->eos_id()).sum().item<int64_t>());
}

TEST(AgentLoopModel, RealModelRunsTheLoopDeterministically) {
  torch::set_num_threads(1);
  auto model = models::load_causal_lm(kShared + "/models/stories260K");
  auto tok = models::load_tokenizer(kShared + "/models/stories260K");
  auto chat = models::chat_format_registry().create("plain");
  auto env = calculator_environment();
  auto policy = policy_of(model, *tok, *chat, {});
  models::GenerationOptions g;
  g.max_new_tokens = 48;
  g.stop_token_ids = {tok->eos_id()};
  g.pad_token_id = tok->eos_id();
  g.seed = 7;
  std::vector<std::vector<int64_t>> prompts{models::encode_prompt(*tok, "Tom had 3 apples.", true),
                                            models::encode_prompt(*tok, "Lily saw a", true)};
  std::vector<nlohmann::json> samples(2, nlohmann::json::object());
  AgentLoopOptions options;
  auto a = run_agent_loop(policy, *env, prompts, samples, 3, g, options);
  auto b = run_agent_loop(policy, *env, prompts, samples, 3, g, options);
  EXPECT_TRUE(a.generation.tokens.equal(b.generation.tokens));
  EXPECT_EQ(a.transcripts, b.transcripts);
  EXPECT_EQ(a.generation.tokens.size(0), 6);
  EXPECT_LE(a.generation.tokens.size(1), 48);
  EXPECT_TRUE(a.turns.ge(1).all().item<bool>());
  // Without tool calls the loop is plain generation: the same tokens as models::generate.
  auto plain = models::generate(model, prompts, 3, g);
  if (a.tool_calls.sum().item<int64_t>() == 0) {
    EXPECT_TRUE(a.generation.tokens.narrow(1, 0, plain.tokens.size(1)).equal(plain.tokens));
  }
}

}  // namespace
}  // namespace vecrl::agents
