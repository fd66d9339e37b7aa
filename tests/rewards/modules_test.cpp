// Format, artifact and transform modules against hand-made texts and algorithms.md's worked examples.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "rewards/reward_set.h"
#include "tests/rewards/reward_fixture.h"

using namespace vecrl;
using namespace vecrl::testing;

namespace {

std::vector<float> score(const std::string& yaml, const core::Rollouts& r, int64_t k = 0) {
  rewards::RewardSet set(specs(yaml));
  return column(set.score(r), k);
}

void expect_near(const std::vector<float>& got, const std::vector<double>& want, double tol = 1e-4) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "index " << i;
}

}  // namespace

TEST(FormatRewards, RegexExactMatchAndChoice) {
  auto r = rollouts({"Result: 42", "result 42", "  The  ANSWER\n", "(b)"}, {},
                    {{{"p", "^Result: \\d+$"}, {"answer", "x"}},
                     {{"p", "^Result: \\d+$"}, {"answer", "Result 42"}},
                     {{"p", "answer"}, {"answer", {"nope", "the answer"}}},
                     {{"p", "b"}, {"answer", "B"}}});
  EXPECT_EQ(score("rewards: [{type: regex, pattern: 'Result: \\d+', full_match: true}]", r),
            (std::vector<float>{1, 0, 0, 0}));
  EXPECT_EQ(score("rewards: [{type: regex, pattern_field: p, case_sensitive: false}]", r),
            (std::vector<float>{1, 0, 1, 1}));
  EXPECT_EQ(score("rewards: [{type: exact_match}]", r), (std::vector<float>{0, 1, 1, 0}));

  auto c = rollouts({"The answer is (C).", "\\boxed{B}", "B", "I think answer: a", "Answer: D, not C"}, {},
                    {{{"answer", "C"}}, {{"answer", "B"}}, {{"answer", "A"}}, {{"answer", "A"}}, {{"answer", "D"}}});
  EXPECT_EQ(score("rewards: [{type: choice}]", c), (std::vector<float>{1, 1, 0, 0, 1}));
  EXPECT_EQ(score("rewards: [{type: choice}]", c, 1), (std::vector<float>{1, 1, 1, 0, 1}));  // lower-case a is no letter
}

TEST(FormatRewards, TagStructureJsonAndLength) {
  auto r = rollouts({"<think>hmm</think><answer>4</answer>", "<think>hmm</think> <answer></answer>",
                     "<answer>4</answer><think>x</think>", "x <think>a</think><answer>4</answer>"});
  EXPECT_EQ(score("rewards: [{type: tag_format}]", r), (std::vector<float>{1, 0, 0, 0}));
  EXPECT_EQ(score("rewards: [{type: tag_format}]", r, 1), (std::vector<float>{1, 0, 1, 1}));
  EXPECT_EQ(score("rewards: [{type: tag_format, strict: false}]", r), (std::vector<float>{1, 0, 0, 1}));

  auto j = rollouts({"{\"a\": 1}", "```json\n{\"a\": [1, 2]}\n```", "{'a': 1}", "[1, 2]"});
  EXPECT_EQ(score("rewards: [{type: json_format}]", j), (std::vector<float>{1, 1, 0, 1}));
  EXPECT_EQ(score("rewards: [{type: json_format, required_keys: [a]}]", j), (std::vector<float>{1, 1, 0, 0}));

  auto l = with_lengths(rollouts({"a", "b", "c", "d"}), {2, 4, 6, 9});
  expect_near(score("rewards: [{type: length, min: 3, max: 4, zero_at: 8}]", l), {0, 1, 0.5, 0});
  expect_near(score("rewards: [{type: length, unit: chars, max: 1}]", rollouts({"ab", "é", "x"})), {0, 1, 1});
}

TEST(ArtifactRewards, WorkedExamplesFromTheDesign) {
  // algorithms.md §7: 4-gram repetition of "the answer is ... 42" -> r_rep = 0.3077.
  auto r = rollouts({"the answer is the answer is the answer is the answer is the answer is 42",
                     "A clean sentence with no repeated phrases at all."});
  expect_near(score("rewards: [{type: repetition}]", r), {4.0 / 13.0, 1.0});

  // algorithms.md §1.3: DAPO soft overlong punishment with L_max 20480, L_cache 4096.
  auto lengths = with_lengths(rollouts({"a", "b", "c", "d"}), {10000, 17000, 19456, 21000});
  expect_near(score("rewards: [{type: overlong}]", lengths), {0, -0.150390625, -0.75, -1.0}, 1e-7);

  std::string loop;
  for (int i = 0; i < 60; ++i) loop += "I will now answer. ";
  const std::string prose =
      "Photosynthesis converts light energy into chemical energy stored in glucose. Chlorophyll absorbs mostly red "
      "and blue light, which is why leaves look green to us. Oxygen is released as a by-product of splitting water.";
  auto z = rollouts({loop, prose, "short"});
  auto zlib = score("rewards: [{type: compression, min_ratio: 0.3}]", z);
  EXPECT_LT(zlib[0], 0.3);  // the loop compresses to a few percent
  EXPECT_FLOAT_EQ(zlib[1], 1.0f);
  EXPECT_FLOAT_EQ(zlib[2], 1.0f);  // too short to judge
  rewards::RewardSet ratio_set(specs("rewards: [{type: compression}]"));
  EXPECT_FALSE(ratio_set.score(z).valid[2][0][1].item<bool>());  // its ratio is not reported

  auto c = rollouts({"<answer>4</answer>", "   ", "<answer>4</answer><answer>5</answer>", "<answer>4</answer>"},
                    {false, false, false, true});
  rewards::RewardSet completion(specs("rewards: [{type: completion, answer_tag: answer}]"));
  auto m = completion.score(c);
  EXPECT_EQ(column(m, 0), (std::vector<float>{1, 1, 1, 0}));  // stopped
  EXPECT_EQ(column(m, 1), (std::vector<float>{1, 0, 1, 1}));  // nonempty
  EXPECT_EQ(column(m, 2), (std::vector<float>{1, 0, 0, 1}));  // answer_wellformed
  EXPECT_EQ(column(m, 3), (std::vector<float>{1, 0, 0, 0}));  // clean
}

TEST(RewardTransforms, ParLscAndGateReproduceTheWorkedExamples) {
  // The worked examples' raw rewards are not what any text module produces, so the transforms are
  // applied to a hand-filled matrix.
  auto r = rollouts({"a", "b", "c", "d"});
  auto part = core::RewardMatrix::zeros(4, 1, {"m/score"});
  auto set_values = [&](std::vector<float> v) {
    part.values.copy_(torch::tensor(v).view({4, 1, 1}));
    part.valid.fill_(true);
  };
  std::vector<rewards::RewardDim> bounds{{"score", -10, 10}};
  core::RewardMatrix none;
  auto apply = [&](const std::string& yaml) {
    core::ConfigNode root(YAML::Load(yaml), "t.yaml");
    core::ComponentSpec spec;
    root.component("transform", spec);
    auto transform = core::create_component(rewards::transform_registry(), spec);
    transform->apply(part, {r, bounds, none});
    return column(part, 0);
  };
  set_values({2, 0.5, -1, 3});
  expect_near(apply("transform: {type: par, refs: [0, 1]}"), {0.8059, 0.5000, 0.1941, 0.9167});
  set_values({2, 0.5, -1, 3});
  expect_near(apply("transform: {type: lsc, refs: [0, 1]}"), {-0.3182, -0.9855, -2.1430, -0.1291});
  set_values({-10, 0, 5, 10});
  expect_near(apply("transform: {type: normalize}"), {0, 0.5, 0.75, 1});

  // References per sample from a dataset field. A sample without references has no r_ref: it is
  // not-valid in par and lsc alike (never scored against r_ref = 0, nor passed through raw).
  auto with_refs = rollouts({"a", "b"}, {}, {{{"refs", {0, 1}}}, {{"refs", nlohmann::json::array()}}});
  for (const auto& [type, expected] : std::vector<std::pair<std::string, double>>{{"par", 0.8059}, {"lsc", -0.3182}}) {
    part = core::RewardMatrix::zeros(2, 1, {"m/score"});
    part.values.copy_(torch::tensor({2.0f, 0.5f}).view({2, 1, 1}));
    part.valid.fill_(true);
    core::ConfigNode root(YAML::Load("transform: {type: " + type + ", field: refs}"), "t.yaml");
    core::ComponentSpec spec;
    root.component("transform", spec);
    core::create_component(rewards::transform_registry(), spec)->apply(part, {with_refs, bounds, none});
    EXPECT_NEAR(column(part, 0)[0], expected, 1e-4) << type;
    EXPECT_TRUE(part.valid[0][0][0].item<bool>()) << type;
    EXPECT_FALSE(part.valid[1][0][0].item<bool>()) << type;
  }
}

TEST(RewardTransforms, GateAppliesAfterAnEarlierModuleAndNamesMissingDimensions) {
  // G-RA (algorithms.md §9.3, delta = 1): the lower-priority reward counts only where the outcome
  // reached the threshold.
  auto r = rollouts({"good ", "bad x", "good 1", "bad 12"});
  rewards::RewardSet set(specs(R"(
rewards:
  - {type: contains_word, name: outcome, words: [good]}
  - {type: length, name: steps, unit: chars, min: 0, max: 100, transforms: [{type: gate, by: outcome/score}]}
)"));
  auto m = set.score(r);
  EXPECT_EQ(column(m, 1), (std::vector<float>{1, 0, 1, 0}));

  rewards::RewardSet wrong(specs(R"(
rewards:
  - {type: contains_word, name: outcome, words: [good]}
  - {type: word_limit, transforms: [{type: gate, by: outcome/nope}]}
)"));
  auto failed = wrong.score(r);
  EXPECT_FALSE(failed.valid.select(2, 1).any().item<bool>());
  EXPECT_EQ(wrong.failures(), 1);
}

TEST(RewardSplit, ASeparatorCutsTheResponseIntoTerminatedPieces) {
  rewards::ScoringOptions options;
  options.split.separator = ".";
  options.split.max_answers = 3;
  EXPECT_EQ(rewards::split_answers("A dog ran. . The cat sat.  Big sun. More. tail", options.split),
            (std::vector<std::string>{"A dog ran", "The cat sat", "Big sun"}));  // empty pieces skipped, at most 3
  EXPECT_EQ(rewards::split_answers("no full stop", options.split), std::vector<std::string>{});
  rewards::RewardSet set(specs("rewards: [{type: contains_word, words: [dog]}]"), options);
  EXPECT_EQ(set.answers_per_rollout(), 3);
  auto m = set.score(rollouts({"cat. dog. the dog", "dog."}, {}, {}));
  EXPECT_TRUE(torch::equal(m.values.select(2, 0), torch::tensor({{0.f, 1.f, 0.f}, {1.f, 0.f, 0.f}})));
  EXPECT_TRUE(torch::equal(m.valid.select(2, 0), torch::tensor({{true, true, false}, {true, false, false}})));
  options.split.tag = "answer";
  EXPECT_THROW(rewards::RewardSet(specs("rewards: [{type: contains_word, words: [dog]}]"), options), std::exception);
}

TEST(RewardSplit, EachAnswerIsScoredAndMissingSlotsAreNotValid) {
  rewards::ScoringOptions options;
  options.split.tag = "answer";
  options.split.max_answers = 3;
  rewards::RewardSet set(specs("rewards: [{type: math}]"), options);
  auto r = rollouts({"<answer>4</answer> and <answer>5</answer>", "none", "<answer>4</answer><answer>4</answer>"
                     "<answer>4</answer><answer>9</answer>"},
                    {}, {{{"answer", "4"}}, {{"answer", "4"}}, {{"answer", "4"}}});
  auto m = set.score(r);
  ASSERT_EQ(m.values.sizes(), (std::vector<int64_t>{3, 3, 2}));
  auto correct = m.values.select(2, 0);
  auto valid = m.valid.select(2, 0);
  EXPECT_TRUE(torch::equal(correct, torch::tensor({{1.f, 0.f, 0.f}, {0.f, 0.f, 0.f}, {1.f, 1.f, 1.f}})));
  EXPECT_TRUE(torch::equal(valid, torch::tensor({{true, true, false}, {false, false, false}, {true, true, true}})));
  EXPECT_EQ(rewards::split_answers("<answer>a</answer><answer>b", options.split), std::vector<std::string>{"a"});
}
