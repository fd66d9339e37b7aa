#pragma once
// Masked per-group statistics and normalisations shared by the estimators.
// Legend: P groups, G rollouts per group.
#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace vecrl::algorithms {

enum class StdKind { kUnbiased, kPopulation };

// The `std:` option's names, for ConfigNode::choice.
const std::vector<std::pair<std::string, StdKind>>& std_kind_names();

struct GroupStats {
  at::Tensor mean;   // [P, 1] float64
  at::Tensor std;    // [P, 1] float64
  at::Tensor count;  // [P, 1] float64, valid rollouts
};

// values [P, G], valid [P, G] bool. Rows that are not valid do not enter mean or std. A group with
// fewer valid rows than the std needs (1 for population, 2 for unbiased) gets std 0.
GroupStats group_stats(const at::Tensor& values, const at::Tensor& valid, StdKind kind);

// The group z-score (or centring, when normalize_std is false): [P, G] float64, 0 for invalid
// rows and for groups with fewer than two valid rows.
at::Tensor group_normalize(const at::Tensor& values, const at::Tensor& valid, StdKind kind, double eps,
                           bool normalize_std);

}  // namespace vecrl::algorithms
