#pragma once
// Independent reference computations for the trainer-level contract tests: plain loops over
// doubles written from algorithms.md's formulas (§1, §3, §4, §5, §6, §13), sharing no code with
// algorithms/. Legend: N rollouts in groups of G, T response tokens.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/batch.h"

namespace vecrl::test::reference {

using Vec = std::vector<double>;
using Mat = std::vector<std::vector<double>>;

inline Vec vec(const at::Tensor& t) {
  auto c = t.to(at::kDouble).contiguous().reshape({-1});
  return Vec(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

inline Mat mat(const at::Tensor& t) {
  Mat out;
  for (int64_t i = 0; i < t.size(0); ++i) out.push_back(vec(t[i]));
  return out;
}

// Dimension k of answer 0 of every rollout, and its validity.
inline Vec column(const core::RewardMatrix& r, const std::string& name) {
  for (int64_t k = 0; k < r.dims(); ++k)
    if (r.names[k] == name) return vec(r.values.select(1, 0).select(1, k));
  ADD_FAILURE() << "no dimension " << name;
  return {};
}

inline std::vector<bool> valid_column(const core::RewardMatrix& r, const std::string& name) {
  for (int64_t k = 0; k < r.dims(); ++k)
    if (r.names[k] == name) {
      auto v = vec(r.valid.select(1, 0).select(1, k));
      return std::vector<bool>(v.begin(), v.end());
    }
  ADD_FAILURE() << "no dimension " << name;
  return {};
}

// Mean and std (population or unbiased) of the entries of `v` where `use` holds.
struct Moments {
  double mean = 0, std = 0;
  int64_t n = 0;
};
inline Moments moments(const Vec& v, const std::vector<bool>& use, bool unbiased) {
  Moments m;
  for (std::size_t i = 0; i < v.size(); ++i)
    if (use[i]) m.mean += v[i], ++m.n;
  if (m.n == 0) return m;
  m.mean /= static_cast<double>(m.n);
  double ss = 0;
  for (std::size_t i = 0; i < v.size(); ++i)
    if (use[i]) ss += (v[i] - m.mean) * (v[i] - m.mean);
  const double d = static_cast<double>(m.n) - (unbiased ? 1.0 : 0.0);
  m.std = d > 0 ? std::sqrt(ss / d) : 0.0;
  return m;
}

// GRPO within groups of G: (r - mean) / (std + eps) over the valid rows; 0 elsewhere and for
// groups with fewer than two valid rows.
inline Vec grpo(const Vec& r, const std::vector<bool>& valid, int64_t G, double eps, bool unbiased) {
  Vec out(r.size(), 0.0);
  for (std::size_t g = 0; g < r.size(); g += static_cast<std::size_t>(G)) {
    Vec rg(r.begin() + g, r.begin() + g + G);
    std::vector<bool> vg(valid.begin() + g, valid.begin() + g + G);
    const auto m = moments(rg, vg, unbiased);
    if (m.n < 2) continue;
    for (int64_t i = 0; i < G; ++i)
      if (vg[i]) out[g + i] = (rg[i] - m.mean) / (m.std + eps);
  }
  return out;
}

// DVAO (§3) with the penalty on the combined reward: (sum_k w_k (r_k - mu_k) - (pen - mean pen)) / S,
// S = sum_k w_k pstd_k; 0 when S <= eps. Every row valid.
inline Vec dvao(const Mat& columns, const Vec& w, const Vec& penalty, int64_t G, double eps = 1e-8) {
  const std::size_t N = penalty.size();
  Vec out(N, 0.0);
  const std::vector<bool> all(static_cast<std::size_t>(G), true);
  for (std::size_t g = 0; g < N; g += static_cast<std::size_t>(G)) {
    double S = 0;
    Vec numerator(static_cast<std::size_t>(G), 0.0);
    for (std::size_t k = 0; k < columns.size(); ++k) {
      Vec c(columns[k].begin() + g, columns[k].begin() + g + G);
      const auto m = moments(c, all, false);
      S += w[k] * m.std;
      for (int64_t i = 0; i < G; ++i) numerator[i] += w[k] * (c[i] - m.mean);
    }
    const auto pm = moments(Vec(penalty.begin() + g, penalty.begin() + g + G), all, false);
    if (S <= eps) continue;
    for (int64_t i = 0; i < G; ++i) out[g + i] = (numerator[i] - (penalty[g + i] - pm.mean)) / S;
  }
  return out;
}

// VPO (§5) with one answer per rollout and fixed weight vectors W over the trained columns:
// R^_i = mean_q w_q . r_i - pen_i, then the population z-score (0 when pstd < eps).
inline Vec vpo(const Mat& columns, const Mat& W, const Vec& penalty, int64_t G, double eps = 1e-6) {
  const std::size_t N = penalty.size();
  Vec score(N, 0.0);
  for (std::size_t i = 0; i < N; ++i) {
    for (const auto& w : W) {
      double dot = 0;
      for (std::size_t k = 0; k < columns.size(); ++k) dot += w[k] * columns[k][i];
      score[i] += dot / static_cast<double>(W.size());
    }
    score[i] -= penalty[i];
  }
  Vec out(N, 0.0);
  const std::vector<bool> all(static_cast<std::size_t>(G), true);
  for (std::size_t g = 0; g < N; g += static_cast<std::size_t>(G)) {
    const auto m = moments(Vec(score.begin() + g, score.begin() + g + G), all, false);
    if (m.std < eps) continue;
    for (int64_t i = 0; i < G; ++i) out[g + i] = (score[g + i] - m.mean) / (m.std + eps);
  }
  return out;
}

// REINFORCE++ (§1.5, gamma = 1) with token rewards: the outcome on the last response token minus
// each token's penalty; returns to go, whitened over every response token (Bessel variance).
inline Mat reinforce_pp(const Vec& outcome, const Mat& penalty, const Mat& mask, double eps = 1e-8) {
  Mat returns = mask;
  double sum = 0, sq = 0, n = 0;
  for (std::size_t i = 0; i < outcome.size(); ++i) {
    double running = 0;
    bool last = true;
    for (std::size_t t = mask[i].size(); t-- > 0;) {
      returns[i][t] = 0;
      if (mask[i][t] == 0) continue;
      running += (last ? outcome[i] : 0.0) - penalty[i][t];
      last = false;
      returns[i][t] = running;
      sum += running, sq += running * running, n += 1;
    }
  }
  const double mean = sum / n, var = (sq - n * mean * mean) / (n - 1);
  for (std::size_t i = 0; i < returns.size(); ++i)
    for (std::size_t t = 0; t < returns[i].size(); ++t)
      returns[i][t] = mask[i][t] != 0 ? (returns[i][t] - mean) / std::sqrt(var + eps) : 0.0;
  return returns;
}

// The per-rollout sum over response tokens of coef * (logp_old - logp_ref) (k1, kl_in_reward's
// default estimator), and the per-token values.
inline Mat token_k1(const at::Tensor& old_logprobs, const at::Tensor& ref_logprobs, const at::Tensor& mask, double coef) {
  auto o = mat(old_logprobs), r = mat(ref_logprobs), m = mat(mask);
  Mat out = m;
  for (std::size_t i = 0; i < m.size(); ++i)
    for (std::size_t t = 0; t < m[i].size(); ++t) out[i][t] = m[i][t] != 0 ? coef * (o[i][t] - r[i][t]) : 0.0;
  return out;
}

inline Vec row_sums(const Mat& m) {
  Vec out;
  for (const auto& row : m) {
    double s = 0;
    for (double x : row) s += x;
    out.push_back(s);
  }
  return out;
}

inline void expect_near(const Vec& got, const Vec& want, double tol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << what << " at " << i;
}

}  // namespace vecrl::test::reference
