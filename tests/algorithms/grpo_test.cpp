// GRPO against the worked examples of algorithms.md §1.1 / §11 (R = [[1,.5],[1,1],[0,1],[0,0]], w = [.5,.5]).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "algorithms/advantage.h"

using namespace vecrl;

namespace {

core::RewardMatrix matrix(const std::vector<std::vector<float>>& rows) {
  const auto n = static_cast<int64_t>(rows.size()), k = static_cast<int64_t>(rows[0].size());
  std::vector<std::string> names;
  for (int64_t i = 0; i < k; ++i) names.push_back("d" + std::to_string(i));
  auto m = core::RewardMatrix::zeros(n, 1, names);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < k; ++j) m.values[i][0][j] = rows[i][j];
  return m;
}

std::vector<double> run(const std::string& yaml, const core::RewardMatrix& r, int64_t G,
                        std::vector<double> w = {0.5, 0.5}) {
  core::ConfigNode node(YAML::Load(yaml), "test");
  auto estimator = algorithms::advantage_registry().create("grpo", node);
  auto adv = estimator->compute({r, w, G});
  EXPECT_EQ(adv.values.size(0), 1);
  auto v = adv.values[0].to(torch::kDouble).contiguous();
  return std::vector<double>(v.data_ptr<double>(), v.data_ptr<double>() + v.numel());
}

void expect_near(const std::vector<double>& got, const std::vector<double>& want, double tol = 1e-4) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "index " << i;
}

const auto kRunning = matrix({{1, 0.5}, {1, 1}, {0, 1}, {0, 0}});

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
