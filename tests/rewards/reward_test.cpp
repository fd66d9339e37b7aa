#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <torch/torch.h>

#include "rewards/reward_set.h"
#include "tests/rewards/reward_fixture.h"

using namespace vecrl;
using namespace vecrl::testing;


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

TEST(Rewards, ContainsWordWithSaturateAtCountsDistinctWords) {
  rewards::RewardSet set(specs(R"(
rewards:
  - {type: contains_word, name: animals, words: [dog, cat, frog], saturate_at: 2}
  - {type: contains_word, name: no_animals, words: [dog, cat, frog], saturate_at: 2, reward_absence: true}
)"));
  auto m = set.score(rollouts({"a dog and a dog", "a cat, a dog and a frog", "nothing", "Cat dog"},
                              {false, false, false, false}, {}));
  EXPECT_EQ(column(m, 0), (std::vector<float>{0.5, 1, 0, 1}));  // a repeated word counts once
  EXPECT_EQ(column(m, 1), (std::vector<float>{0.5, 0, 1, 0}));
  EXPECT_THROW(rewards::RewardSet(specs("rewards: [{type: contains_word, words: [a], saturate_at: 0}]")),
               std::exception);
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
  EXPECT_EQ(set.failures(), 2);  // each of the two texts failed alone
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

namespace {
// A module that takes far too long and ignores cancellation, to exercise the per-call deadline.
struct SlowOptions {
  double sleep_s = 4.0;
  template <class V>
  void visit(V& v) {
    v.field("sleep_s", sleep_s);
  }
};
class Slow : public rewards::TextRewardModule {
 public:
  explicit Slow(SlowOptions o) : o_(o) {}
  std::vector<rewards::RewardDim> dims() const override { return {{"score", 0, 1}}; }
  std::vector<double> score_text(const rewards::TextItem&) const override {
    std::this_thread::sleep_for(std::chrono::duration<double>(o_.sleep_s));
    return {1.0};
  }

 private:
  SlowOptions o_;
};
VECRL_REGISTER(rewards::reward_registry(), "test_slow", (core::make_configured<rewards::RewardModule, SlowOptions, Slow>));
}  // namespace

TEST(Rewards, AModuleCallPastItsTimeoutIsMaskedAndTheRunGoesOn) {
  rewards::RewardSet set(specs("rewards: [{type: test_slow, deadline_s: 0.2}, {type: ends_with}]"));
  const auto start = std::chrono::steady_clock::now();
  auto m = set.score(rollouts({"a.", "b."}, {false, false}, {}));
  // The deadline, then at most the 1 s grace for cancelled work to wind down (this module ignores it).
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 2.0);
  EXPECT_FALSE(m.valid.select(2, 0).any().item().toBool());
  EXPECT_TRUE(m.valid.select(2, 1).all().item().toBool());
  EXPECT_EQ(set.failures(), 1);
  rewards::RewardSet quick(specs("rewards: [{type: test_slow, sleep_s: 0.01, deadline_s: 5}]"));
  EXPECT_TRUE(quick.score(rollouts({"a"}, {false}, {})).valid.all().item().toBool());
}

TEST(Rewards, DiagnosticDimensionsWeighZeroUnlessDimWeightsSaySo) {
  rewards::RewardSet set(specs(R"(
rewards:
  - {type: math, weight: 2}
  - {type: ifeval, mode: loose}
  - {type: tag_format, dim_weights: [answer_nonempty=0.5]}
)"));
  const auto& names = set.dim_names();
  auto weight = [&](const std::string& name) {
    return set.weights()[std::find(names.begin(), names.end(), name) - names.begin()];
  };
  EXPECT_EQ(weight("math/correct"), 2.0);
  EXPECT_EQ(weight("math/extracted"), 0.0);
  EXPECT_EQ(weight("ifeval/instruction_level_loose"), 1.0);
  EXPECT_EQ(weight("ifeval/instruction_level_strict"), 0.0);
  EXPECT_EQ(weight("ifeval/punctuation:no_comma"), 0.0);
  EXPECT_EQ(weight("tag_format/structure"), 1.0);
  EXPECT_EQ(weight("tag_format/answer_nonempty"), 0.5);
  try {
    rewards::RewardSet bad(specs("rewards: [{type: math, dim_weights: [nope=1]}]"));
    FAIL() << "expected an error";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("rewards[0].dim_weights"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'nope' is not a dimension of this module (correct, extracted)"),
              std::string::npos) << e.what();
  }
}
