#include <gtest/gtest.h>
#include <torch/torch.h>

#include "rewards/reward_set.h"

using namespace vecrl;

namespace {

core::Rollouts rollouts(const std::vector<std::string>& responses, const std::vector<bool>& truncated,
                        const std::vector<nlohmann::json>& samples) {
  core::Rollouts r;
  const auto n = static_cast<int64_t>(responses.size());
  r.group_size = n;
  r.responses = responses;
  r.prompts = std::vector<std::string>(n, "p");
  r.samples = samples.empty() ? std::vector<nlohmann::json>(n, nlohmann::json::object()) : samples;
  r.prompt_ids = torch::ones({n, 1}, torch::kLong);
  r.prompt_mask = torch::ones({n, 1}, torch::kBool);
  r.response_ids = torch::ones({n, 2}, torch::kLong);
  r.response_mask = torch::ones({n, 2}, torch::kBool);
  r.behaviour_logprobs = torch::zeros({n, 2});
  r.truncated = torch::zeros({n}, torch::kBool);
  for (int64_t i = 0; i < n; ++i) r.truncated[i] = static_cast<bool>(truncated[i]);
  return r;
}

std::vector<core::ComponentSpec> specs(const std::string& yaml) {
  core::ConfigNode root(YAML::Load(yaml), "test.yaml");
  std::vector<core::ComponentSpec> out;
  root.component_list("rewards", out);
  return out;
}

std::vector<float> column(const core::RewardMatrix& m, int64_t k) {
  auto c = m.values.select(2, k).select(1, 0).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

}  // namespace

TEST(Rewards, BuiltinModulesScoreAsDocumented) {
  rewards::RewardSet set(specs(R"(
rewards:
  - {type: contains_word, name: animal, words: [dog, cat], weight: 0.5}
  - {type: contains_word, name: target, field: word}
  - {type: contains_word, name: no_big, words: [big], reward_absence: true}
  - {type: ends_with, name: stop}
  - {type: word_limit, name: short, max_words: 3, zero_at: 5}
)"));
  auto r = rollouts({"The Dog sat.", "a big catalogue", "bigger cat ran far away now", "hot dog"},
                    {false, false, true, false},
                    {{{"word", "sat"}}, {{"word", "cat"}}, {{"word", "ran"}}, {{"word", "cat"}}});
  auto m = set.score(r);
  EXPECT_EQ(m.names, (std::vector<std::string>{"animal/score", "target/score", "no_big/score", "stop/score",
                                               "short/score"}));
  EXPECT_EQ(column(m, 0), (std::vector<float>{1, 0, 1, 1}));  // whole words, case-insensitive
  EXPECT_EQ(column(m, 1), (std::vector<float>{1, 0, 1, 0}));
  EXPECT_EQ(column(m, 2), (std::vector<float>{1, 0, 1, 1}));
  EXPECT_EQ(column(m, 3), (std::vector<float>{1, 0, 0, 0}));  // truncated rows never count as stopped
  EXPECT_EQ(column(m, 4), (std::vector<float>{1, 1, 0, 1}));  // 6 words >= zero_at
  EXPECT_EQ(set.weights(), (std::vector<double>{0.5, 1, 1, 1, 1}));
  auto metrics = rewards::RewardSet::metrics(m, set.weights());
  EXPECT_NEAR(metrics.at("rewards/animal/score/mean"), 0.75, 1e-9);
  EXPECT_TRUE(metrics.count("rewards/short/score/std"));
  EXPECT_TRUE(metrics.count("critic/score/mean"));
}

TEST(Rewards, WordLimitDecaysLinearly) {
  rewards::RewardSet set(specs("rewards: [{type: word_limit, max_words: 2, zero_at: 6}]"));
  auto m = set.score(rollouts({"a b", "a b c", "a b c d e", ""}, {false, false, false, false}, {}));
  auto c = column(m, 0);
  EXPECT_FLOAT_EQ(c[0], 1.0f);
  EXPECT_FLOAT_EQ(c[1], 0.75f);
  EXPECT_FLOAT_EQ(c[2], 0.25f);
  EXPECT_FLOAT_EQ(c[3], 0.0f);  // below min_words
}

TEST(Rewards, AFailingModuleMarksItsDimensionsInvalid) {
  rewards::RewardSet set(specs("rewards: [{type: contains_word, field: word}, {type: ends_with}]"));
  auto m = set.score(rollouts({"x.", "y."}, {false, false}, {}));  // records lack `word`
  EXPECT_FALSE(m.valid.select(2, 0).any().item<bool>());
  EXPECT_TRUE(m.valid.select(2, 1).all().item<bool>());
  EXPECT_EQ(set.failures(), 1);
  // The total score leaves out rollouts whose weighted dimensions failed instead of counting 0.
  auto metrics = rewards::RewardSet::metrics(m, set.weights());
  EXPECT_TRUE(std::isnan(metrics.at("critic/score/mean")));
  EXPECT_NEAR(rewards::RewardSet::metrics(m, {0.0, 1.0}).at("critic/score/mean"), 1.0, 1e-12);
}

TEST(Rewards, ConfigErrorsNameTheKey) {
  auto message = [](const std::string& yaml) {
    try {
      rewards::RewardSet set(specs(yaml));
    } catch (const core::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message("rewards: [{type: no_such_module}]").find("unknown reward module 'no_such_module'; registered: "),
            std::string::npos);
  EXPECT_NE(message("rewards: [{type: word_limit, max_words: 3, min_words: 5}]").find("rewards[0].max_words"),
            std::string::npos);
  EXPECT_NE(message("rewards: [{type: ends_with, sufixes: [x]}]").find("unknown config key 'rewards[0].sufixes'"),
            std::string::npos);
  EXPECT_NE(message("rewards: [{type: ends_with}, {type: ends_with}]").find("appears twice"), std::string::npos);
  EXPECT_NE(message("rewards: [{name: x}]").find("rewards[0].type"), std::string::npos);
}
