#pragma once
// Builds reward matrices and runs registered estimators for the algorithm tests.
#include <gtest/gtest.h>
#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "algorithms/advantage.h"

namespace vecrl::test {

// rows[i][k] -> RewardMatrix [N, 1, K] with dimensions d0..d{K-1} (or `names`).
inline core::RewardMatrix matrix(const std::vector<std::vector<float>>& rows, std::vector<std::string> names = {}) {
  const auto n = static_cast<int64_t>(rows.size()), k = static_cast<int64_t>(rows[0].size());
  if (names.empty())
    for (int64_t i = 0; i < k; ++i) names.push_back("d" + std::to_string(i));
  auto m = core::RewardMatrix::zeros(n, 1, names);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < k; ++j) m.values[i][0][j] = rows[i][j];
  return m;
}

inline core::Advantages estimate(const std::string& name, const std::string& yaml, const core::RewardMatrix& r,
                                 int64_t G, std::vector<double> w, at::Tensor response_mask = {}) {
  core::ConfigNode node(YAML::Load(yaml), "test");
  auto estimator = algorithms::advantage_registry().create(name, node);
  if (!response_mask.defined()) response_mask = at::ones({r.rollouts(), 1}, at::kBool);
  return estimator->compute({r, std::move(w), G, response_mask, {}});
}

inline std::vector<double> to_vector(const at::Tensor& t) {
  auto v = t.to(at::kDouble).contiguous();
  return std::vector<double>(v.data_ptr<double>(), v.data_ptr<double>() + v.numel());
}

inline std::vector<double> run(const std::string& name, const std::string& yaml, const core::RewardMatrix& r,
                               int64_t G, std::vector<double> w = {0.5, 0.5}) {
  return to_vector(estimate(name, yaml, r, G, std::move(w)).values[0]);
}

inline void expect_near(const std::vector<double>& got, const std::vector<double>& want, double tol = 1e-4) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "index " << i;
}

// The shared running example of algorithms.md §0 / §11.
inline core::RewardMatrix running_example() { return matrix({{1, 0.5}, {1, 1}, {0, 1}, {0, 0}}); }

}  // namespace vecrl::test
