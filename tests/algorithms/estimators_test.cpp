// Every estimator against the worked examples and invariants of algorithms.md §1–§5 and §11.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "tests/algorithms/estimator_test_support.h"

using namespace vecrl;
using test::expect_near;
using test::matrix;
using test::running_example;

TEST(Estimators, Section11Table) {
  const auto R = running_example();
  expect_near(test::run("dr_grpo", "{}", R, 4), {0.1875, 0.4375, -0.0625, -0.5625});
  expect_near(test::run("rloo", "{}", R, 4), {0.2500, 0.5833, -0.0833, -0.7500});
  expect_near(test::run("rc", "{}", R, 4), {0.5071, 1.1832, -0.1690, -1.5213});
  expect_near(test::run("ac", "{}", R, 4), {0.3024, 0.8245, -0.0413, -1.0856});
  expect_near(test::run("ac", "{std: population, eps: 1.0e-8}", R, 4), {0.3492, 0.9523, -0.0477, -1.2538});
  expect_near(test::run("gdpo", "{}", R, 4), {0.3749, 1.0222, -0.0513, -1.3458});
  expect_near(test::run("dvao", "{}", R, 4), {0.4100, 0.9567, -0.1367, -1.2301});
  expect_near(test::run("dvao", "{}", matrix({{1, 0.5}, {1, 1}, {1, 1}, {1, 0}}), 4),
              {-0.3015, 0.9045, 0.9045, -1.5076});
}

TEST(Estimators, ReinforcePlusPlusWhitensOverTokens) {
  auto r = matrix({{0.75}, {1.0}, {0.5}, {0.0}});
  auto mask = torch::zeros({4, 3}, torch::kBool);
  const int64_t lengths[] = {2, 3, 1, 2};
  for (int64_t i = 0; i < 4; ++i) mask[i].narrow(0, 0, lengths[i]).fill_(true);
  for (const char* name : {"reinforce_pp", "reinforce_pp_baseline"}) {  // one group: identical (§1.5)
    auto adv = test::estimate(name, "{}", r, 4, {1.0}, mask);
    expect_near(test::to_vector(adv.values[0]), {0.2958, 0.8874, -0.2958, -1.4790});
    ASSERT_TRUE(adv.token_values.defined());
    EXPECT_NEAR(adv.token_values[0][1][2].item<double>(), 0.8874, 1e-4);
    EXPECT_EQ(adv.token_values[0][2][1].item<double>(), 0.0);  // padding
  }
  // Across two groups the baseline variant differs: it removes each group's mean first.
  auto two = matrix({{1}, {0}, {5}, {4}});
  auto m2 = torch::ones({4, 1}, torch::kBool);
  auto plain = test::to_vector(test::estimate("reinforce_pp", "{}", two, 2, {1.0}, m2).values[0]);
  auto base = test::to_vector(test::estimate("reinforce_pp_baseline", "{}", two, 2, {1.0}, m2).values[0]);
  EXPECT_LT(plain[0], 0);  // 1 is below the batch mean 2.5
  EXPECT_GT(base[0], 0);   // but above its group's mean 0.5
  // gamma < 1 discounts earlier tokens.
  auto disc = test::estimate("reinforce_pp", "{gamma: 0.5}", r, 4, {1.0}, mask);
  EXPECT_NE(disc.token_values[0][1][0].item<double>(), disc.token_values[0][1][2].item<double>());
}

TEST(Estimators, HdpoWorkedExample) {  // §4: r_ans [1,1,1,0], r_fmt [1,1,0,1], T [0,2,1,0]
  // efficiency = 1/(T+1) for correct rollouts, 0 otherwise (the reward of §4).
  auto r = matrix({{1, 1, 1.0f}, {1, 1, 1.0f / 3}, {1, 0, 0.5f}, {0, 1, 0.0f}},
                  {"answer/score", "format/score", "efficiency/score"});
  auto adv = test::estimate("hdpo", "{condition: answer>=1, conditional: [efficiency]}", r, 4, {0.9, 0.1, 1.0});
  ASSERT_EQ(adv.num_channels(), 2);
  expect_near(test::to_vector(adv.values[0]), {0.5735, 0.5735, 0.3441, -1.4912});
  expect_near(test::to_vector(adv.values[1]), {1.1209, -0.8006, -0.3203, 0.0});
  EXPECT_EQ(adv.channel_weights, (std::vector<double>{1.0, 0.15}));
  // The conditional loss covers only rollouts with a non-zero conditional advantage.
  EXPECT_EQ(test::to_vector(adv.rollout_mask[1].to(torch::kDouble)), (std::vector<double>{1, 1, 1, 0}));
  EXPECT_TRUE(adv.rollout_mask[0].all().item<bool>());
  // Coupled GRPO on r_acc + 0.15 r_tool for contrast (§4): the efficiency signal nearly vanishes.
  expect_near(test::run("grpo", "{}", r, 4, {0.9, 0.1, 0.15}), {0.6837, 0.4773, 0.3225, -1.4835});
}

TEST(Estimators, HdpoWithFewerThanTwoQualifyingRolloutsHasNoConditionalSignal) {
  auto r = matrix({{1, 1, 1.0f}, {0, 1, 0.5f}, {0, 0, 0.3f}, {0, 1, 1.0f}}, {"answer", "format", "efficiency"});
  auto adv = test::estimate("hdpo", "{condition: answer>=1, conditional: efficiency}", r, 4, {0.9, 0.1, 1.0});
  expect_near(test::to_vector(adv.values[1]), {0, 0, 0, 0});
  EXPECT_TRUE(adv.rollout_mask[1].all().item<bool>());  // nothing qualifies: full mask, zero loss
}

TEST(Estimators, VpoWorkedExampleWithExplicitWeights) {  // §5
  auto r = core::RewardMatrix::zeros(4, 2, {"r1", "r2"});
  r.valid.fill_(false);
  auto set = [&](int64_t i, int64_t m, float a, float b) {
    r.values[i][m][0] = a;
    r.values[i][m][1] = b;
    r.valid[i][m].fill_(true);
  };
  set(0, 0, 1, 0);
  set(0, 1, 0, 1);
  set(1, 0, 0.5f, 0.5f);
  set(1, 1, 0.5f, 0.5f);
  set(2, 0, 1, 0);
  set(2, 1, 1, 0);  // rollout 3 has no answer
  auto adv = test::run("vpo", "{weight_samples: [[1, 0], [0.5, 0.5], [0, 1]]}", r, 4, {0.5, 0.5});
  expect_near(adv, {1.2602, 0.1400, 0.1400, -1.5403});
  // Seeded Dirichlet draws: deterministic for a seed, and with one answer per rollout VPO is GRPO on
  // the mean reward (up to Monte-Carlo noise).
  auto one = test::running_example();
  auto a = test::run("vpo", "{seed: 5, num_weights: 20000}", one, 4);
  auto b = test::run("vpo", "{seed: 5, num_weights: 20000}", one, 4);
  EXPECT_EQ(a, b);
  expect_near(a, {0.5071, 1.1832, -0.1690, -1.5213}, 0.02);
}

TEST(Estimators, InvariantsHold) {
  const auto R = running_example();
  for (const char* name : {"grpo", "dr_grpo", "rc", "rloo", "ac", "dvao"}) {
    auto a = test::run(name, "{}", R, 4);
    EXPECT_NEAR(a[0] + a[1] + a[2] + a[3], 0.0, 1e-6) << name;
  }
  auto dvao = test::run("dvao", "{}", R, 4), rc = test::run("rc", "{}", R, 4);
  const double sigma_sum = 0.369755, S = 0.457289;  // §3: DVAO = (sigma_sum / S) RC
  for (int i = 0; i < 4; ++i) {
    EXPECT_LE(std::abs(dvao[i]), std::abs(rc[i]) + 1e-9);
    EXPECT_NEAR(dvao[i], sigma_sum / S * rc[i], 1e-4);
  }
  auto flat = matrix({{0.3f, 0.7f}, {0.3f, 0.7f}, {0.3f, 0.7f}, {0.3f, 0.7f}});
  for (const char* name : {"grpo", "dr_grpo", "rc", "rloo", "ac", "gdpo", "dvao", "vpo"})
    expect_near(test::run(name, "{}", flat, 4), {0, 0, 0, 0}, 1e-9);
  for (const char* name : {"grpo", "dr_grpo", "rc", "rloo", "ac", "dvao"})  // G = 1: no baseline
    expect_near(test::run(name, "{}", R, 1), {0, 0, 0, 0}, 1e-9);
}

TEST(Estimators, InvalidEntriesAreMaskedNotZeroed) {
  auto r = matrix({{1, 0.5}, {1, 1}, {0, 1}, {0, 0}, {0.3f, 0.9f}});
  r.valid[4][0][0] = false;
  for (const char* name : {"grpo", "rc", "rloo", "ac", "dvao", "dr_grpo"}) {
    auto five = test::run(name, "{}", r, 5);
    auto four = test::run(name, "{}", running_example(), 4);
    EXPECT_EQ(five[4], 0.0) << name;
    expect_near({five[0], five[1], five[2], five[3]}, four);
  }
}

TEST(Estimators, GdpoStatisticsSpanTheBatchAndRanks) {
  auto two = matrix({{1, 0.5}, {1, 1}, {0, 1}, {0, 0}, {0, 0}, {1, 0}, {1, 1}, {0, 1}});
  core::ConfigNode node(YAML::Load("{}"), "test");
  auto gdpo = algorithms::advantage_registry().create("gdpo", node);
  auto mask = torch::ones({8, 1}, torch::kBool);
  auto whole = test::to_vector(gdpo->compute({two, {0.5, 0.5}, 4, mask, {}}).values[0]);
  // Simulate two ranks, each holding one group, whose sums are exchanged through all_reduce_sum.
  std::vector<at::Tensor> contributions;
  auto first = two.select_rows(torch::arange(0, 4)), second = two.select_rows(torch::arange(4, 8));
  for (auto* part : {&first, &second}) {
    algorithms::AdvantageInput probe{*part, {0.5, 0.5}, 4, mask.narrow(0, 0, 4),
                                     [&](at::Tensor& t) { contributions.push_back(t.clone()); }};
    gdpo->compute(probe);
  }
  auto global = contributions[0] + contributions[1];
  for (int rank = 0; rank < 2; ++rank) {
    auto& part = rank == 0 ? first : second;
    algorithms::AdvantageInput in{part, {0.5, 0.5}, 4, mask.narrow(0, 0, 4), [&](at::Tensor& t) { t.copy_(global); }};
    auto local = test::to_vector(gdpo->compute(in).values[0]);
    for (int i = 0; i < 4; ++i) EXPECT_NEAR(local[i], whole[rank * 4 + i], 1e-6);
  }
}

TEST(Estimators, EveryBuiltinIsRegisteredAndUnknownNamesListThem) {
  for (const char* name : {"grpo", "dr_grpo", "rc", "rloo", "reinforce_pp", "reinforce_pp_baseline", "ac", "gdpo",
                           "dvao", "hdpo", "vpo"})
    EXPECT_TRUE(algorithms::advantage_registry().contains(name)) << name;
  core::ConfigNode node(YAML::Load("{}"), "test");
  try {
    algorithms::advantage_registry().create("ppo", node);
    FAIL();
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("registered: ac, dr_grpo, dvao, gdpo, grpo, hdpo"), std::string::npos)
        << e.what();
  }
}

TEST(Estimators, BadOptionsNameTheKey) {
  auto message = [](const std::string& name, const std::string& yaml) {
    core::ConfigNode node(YAML::Load(yaml), "run.yaml");
    try {
      algorithms::advantage_registry().create(name, node);
    } catch (const core::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message("hdpo", "{conditional: [e]}").find("'condition': is required"), std::string::npos);
  EXPECT_NE(message("hdpo", "{condition: 'a ~ 1', conditional: [e]}").find("'condition': expected 'dimension OP number'"),
            std::string::npos);
  EXPECT_NE(message("vpo", "{alpha: 0}").find("'alpha': must be > 0"), std::string::npos);
  EXPECT_NE(message("vpo", "{weight_samples: [[1, x]]}").find("'weight_samples'"), std::string::npos);
  EXPECT_NE(message("reinforce_pp", "{gamma: 2}").find("'gamma'"), std::string::npos);
  EXPECT_NE(message("dvao", "{std: population}").find("unknown config key 'std'"), std::string::npos);
}

TEST(Estimators, JepoLeaveOneOutOnAnswerLikelihoods) {
  // algorithms.md §6: per-token probabilities of a* after z1..z4 -> log-likelihoods; group R = -0.7240.
  const std::vector<double> l{std::log(.9 * .8 * .95), std::log(.5 * .6 * .9), std::log(.1 * .3 * .5),
                              std::log(.99 * .99 * .99)};
  auto r = matrix({{l[0]}, {l[1]}, {l[2]}, {l[3]}}, {"likelihood/logprob"});
  expect_near(test::run("jepo", "{}", r, 4, {1.0}), {0.1473, -0.1378, -0.2799, 0.4061});
  // A not-valid row is left out of the group and gets 0; the others use the remaining three.
  r.valid[2][0][0] = false;
  const auto three = test::run("jepo", "{}", r, 4, {1.0});
  EXPECT_EQ(three[2], 0.0);
  const double group = std::log((std::exp(l[0]) + std::exp(l[1]) + std::exp(l[3])) / 3);
  EXPECT_NEAR(three[0], group - std::log((std::exp(l[1]) + std::exp(l[3])) / 2), 1e-5);
}

TEST(Estimators, JepoWeightsTheLikelihoodTermBySoftmax) {
  // Lemma 1 for JEPO's group reward log mean_i p_i: the weight of rollout i is p_i / sum_j p_j
  // (algorithms.md §6: [.353, .139, .008, .500], not 1/G each), times G so that the trainer's mean
  // over rollouts is the sum over the group.
  const std::vector<double> l{std::log(.9 * .8 * .95), std::log(.5 * .6 * .9), std::log(.1 * .3 * .5),
                              std::log(.99 * .99 * .99)};
  auto r = matrix({{l[0]}, {l[1]}, {l[2]}, {l[3]}}, {"likelihood/logprob"});
  core::ConfigNode node(YAML::Load("{}"), "test");
  auto jepo = algorithms::advantage_registry().create("jepo", node);
  auto w = test::to_vector(jepo->likelihood_term_weights({r, {1.0}, 4, at::ones({4, 1}, at::kBool)}));
  expect_near({w[0] / 4, w[1] / 4, w[2] / 4, w[3] / 4}, {0.3527, 0.1392, 0.0077, 0.5003});
  r.valid[2][0][0] = false;  // a not-valid row weighs 0 and the others share the group's weight
  w = test::to_vector(jepo->likelihood_term_weights({r, {1.0}, 4, at::ones({4, 1}, at::kBool)}));
  EXPECT_EQ(w[2], 0.0);
  EXPECT_NEAR(w[0] + w[1] + w[3], 4.0, 1e-9);
}

TEST(Estimators, GdpoWithOneWeightedDimensionIsThatDimensionsZScore) {
  // TRL applies GDPO only for K > 1; otherwise it is GRPO of the one reward: z, not w * z.
  const auto R = running_example();
  auto z = test::run("grpo", "{eps: 1.0e-4}", matrix({{1}, {1}, {0}, {0}}), 4, {1.0});
  expect_near(test::run("gdpo", "{}", R, 4, {2.0, 0.0}), z, 1e-6);
  expect_near(test::run("gdpo", "{}", R, 4, {0.3, 0.0}), z, 1e-6);
}

TEST(Estimators, AdvantageCombinationDoesNotGrowWithTheWeights) {
  // AC normalises its weights to sum |w| = 1: [1, 1] and [0.5, 0.5] are the same preference.
  const auto R = running_example();
  expect_near(test::run("ac", "{}", R, 4, {1.0, 1.0}), test::run("ac", "{}", R, 4, {0.5, 0.5}), 1e-9);
  expect_near(test::run("ac", "{}", R, 4, {3.0, 1.0}), test::run("ac", "{}", R, 4, {0.75, 0.25}), 1e-9);
  expect_near(test::run("ac", "{}", R, 4, {0.5, 0.5}), {0.3024, 0.8245, -0.0413, -1.0856});
}

TEST(Estimators, VpoDrawsPerGroupKeyedByTheGroupNotItsPosition) {
  // Two answers per rollout, so the draws matter. The same group under the same key gets the same
  // advantages wherever it sits in the batch (a 1-rank and a 2-rank run agree); other keys draw other
  // weights. Only trained dimensions count: a weight-0 dimension that is never valid changes nothing.
  auto r = core::RewardMatrix::zeros(8, 2, {"a", "b", "diag"});
  const float rows[4][2][2] = {{{1, 0}, {0, 1}}, {{0.5f, 0.5f}, {0.4f, 0.4f}}, {{0.9f, 0}, {0.2f, 0.3f}}, {{0, 0.8f}, {0.1f, 0.1f}}};
  for (int64_t i = 0; i < 8; ++i)
    for (int64_t m = 0; m < 2; ++m) {
      r.values[i][m][0] = rows[i % 4][m][0];
      r.values[i][m][1] = rows[i % 4][m][1];
      r.valid[i][m][2] = false;
    }
  core::ConfigNode node(YAML::Load("{seed: 11, num_weights: 3}"), "test");
  auto vpo = algorithms::advantage_registry().create("vpo", node);
  auto mask = at::ones({8, 1}, at::kBool);
  auto advantages = [&](const core::RewardMatrix& m, std::vector<uint64_t> keys) {
    return test::to_vector(vpo->compute({m, {0.5, 0.5, 0.0}, 4, mask.narrow(0, 0, m.rollouts()), {}, {}, keys}).values[0]);
  };
  const auto same = advantages(r, {7, 7}), other = advantages(r, {7, 8});
  expect_near({same.begin(), same.begin() + 4}, {same.begin() + 4, same.end()}, 1e-12);
  bool differs = false;
  for (int i = 0; i < 4; ++i) differs |= std::abs(other[i] - other[4 + i]) > 1e-6;
  EXPECT_TRUE(differs) << "groups with different keys drew the same weights";
  const auto alone = advantages(r.select_rows(torch::arange(4, 8)), {8});  // the second group on a rank of its own
  expect_near(alone, {other.begin() + 4, other.end()}, 1e-12);
  bool any = false;
  for (double a : same) any |= a != 0;
  EXPECT_TRUE(any) << "the never-valid weight-0 dimension removed every answer";
}

TEST(Estimators, KlPenaltyEntersTheCombinedRewardOrIsRefused) {
  // grpo: r - sum_t pen_t before the z-score; ac/gdpo/jepo have no combined reward and throw.
  const auto R = running_example();
  auto penalty = torch::tensor({0.1f, 0.0f, 0.3f, 0.2f}).view({4, 1});
  core::ConfigNode node(YAML::Load("{}"), "test");
  auto grpo = algorithms::advantage_registry().create("grpo", node);
  algorithms::AdvantageInput in{R, {0.5, 0.5}, 4, at::ones({4, 1}, at::kBool), {}, penalty};
  expect_near(test::to_vector(grpo->compute(in).values[0]),
              test::run("grpo", "{}", matrix({{0.65f}, {1.0f}, {0.2f}, {-0.2f}}), 4, {1.0}), 1e-5);
  EXPECT_EQ(grpo->kl_in_reward(), algorithms::KlInReward::kOnCombinedReward);
  for (const char* name : {"ac", "gdpo"}) {
    core::ConfigNode n(YAML::Load("{}"), "test");
    auto e = algorithms::advantage_registry().create(name, n);
    EXPECT_EQ(e->kl_in_reward(), algorithms::KlInReward::kUnsupported) << name;
    EXPECT_THROW(e->compute(in), core::Error) << name;
  }
}
