// GRPO against the worked examples of algorithms.md §1.1 / §11 (R = [[1,.5],[1,1],[0,1],[0,0]], w = [.5,.5]).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "algorithms/advantage.h"
#include "tests/algorithms/estimator_test_support.h"

using namespace vecrl;

using test::expect_near;
using test::matrix;
using test::run;

namespace {

std::vector<double> run(const std::string& yaml, const core::RewardMatrix& r, int64_t G,
                        std::vector<double> w = {0.5, 0.5}) {
  return test::run("grpo", yaml, r, G, std::move(w));
}

const auto kRunning = test::running_example();

}  // namespace

TEST(Grpo, UnbiasedStdMatchesWorkedExample) {
  expect_near(run("{}", kRunning, 4), {0.4392, 1.0247, -0.1464, -1.3175});
}

TEST(Grpo, PopulationStdMatchesWorkedExample) {
  expect_near(run("std: population", kRunning, 4), {0.5071, 1.1832, -0.1690, -1.5213});
}

TEST(Grpo, WithoutStdIsDrGrpoAdvantage) {
  expect_near(run("normalize_std: false", kRunning, 4), {0.1875, 0.4375, -0.0625, -0.5625});
}

TEST(Grpo, GroupsAreIndependentAndSumToZero) {
  auto two = matrix({{1, 0.5}, {1, 1}, {0, 1}, {0, 0}, {0, 0}, {0, 0}, {1, 1}, {1, 1}});
  auto a = run("{}", two, 4);
  expect_near({a[0], a[1], a[2], a[3]}, {0.4392, 1.0247, -0.1464, -1.3175});
  EXPECT_NEAR(a[4] + a[5] + a[6] + a[7], 0.0, 1e-6);
  EXPECT_NEAR(a[0] + a[1] + a[2] + a[3], 0.0, 1e-6);
}

TEST(Grpo, DegenerateGroupsGiveZero) {
  expect_near(run("{}", matrix({{1, 1}, {1, 1}, {1, 1}, {1, 1}}), 4), {0, 0, 0, 0});
  expect_near(run("{}", kRunning, 1), {0, 0, 0, 0});  // G = 1: no baseline
}

TEST(Grpo, InvalidRowsAreExcludedNotCountedAsZero) {
  auto r = matrix({{1, 0.5}, {1, 1}, {0, 1}, {0, 0}, {0, 0}});
  r.valid[4][0][1] = false;  // fifth rollout: dimension 1 failed
  auto five = run("{}", matrix({{1, 0.5}, {1, 1}, {0, 1}, {0, 0}, {0, 0}}), 5);
  auto a = run("{}", r, 5);
  EXPECT_EQ(a[4], 0.0);
  expect_near({a[0], a[1], a[2], a[3]}, {0.4392, 1.0247, -0.1464, -1.3175});  // as if the row were absent
  EXPECT_GT(std::abs(five[0] - a[0]), 1e-3);  // counting it as 0 would have changed the others
}

TEST(Grpo, RejectsBadOptionsAndShapes) {
  core::ConfigNode bad(YAML::Load("std: sample"), "test");
  EXPECT_THROW(algorithms::advantage_registry().create("grpo", bad), core::Error);
  core::ConfigNode unknown(YAML::Load("epsilon: 1"), "test");
  EXPECT_THROW(algorithms::advantage_registry().create("grpo", unknown), core::Error);
  EXPECT_THROW(run("{}", kRunning, 3), core::Error);           // 4 rollouts do not split into groups of 3
  EXPECT_THROW(run("{}", kRunning, 4, {1.0}), core::Error);    // wrong number of weights
}

TEST(Grpo, WithAnswersMeanScoresTheMeanOverAnswerSlotsAMissingOneCountingZero) {
  // Two answers per rollout, w = [.5, .5]; rollout 1's second answer is missing (not valid).
  auto r = core::RewardMatrix::zeros(4, 2, {"d0", "d1"});
  const float values[4][2][2] = {{{1, 0.5}, {0, 0}}, {{1, 1}, {7, 7}}, {{0, 1}, {1, 1}}, {{0, 0}, {0, 0}}};
  for (int i = 0; i < 4; ++i)
    for (int m = 0; m < 2; ++m)
      for (int k = 0; k < 2; ++k) r.values[i][m][k] = values[i][m][k];
  r.valid[1][1].fill_(false);
  // Means of the slots' totals: [0.375, 0.5, 0.75, 0], z-scored with the population std.
  expect_near(run("{answers: mean, std: population}", r, 4), {-0.1155, 0.3464, 1.2702, -1.5011});
  expect_near(run("{}", r, 4), run("{}", test::running_example(), 4));  // answers: first, the default
  EXPECT_THROW(run("{answers: max}", r, 4), std::exception);
}
