#pragma once
// Masked per-group statistics. Legend: P groups, G rollouts per group.
#include <ATen/core/Tensor.h>

namespace vecrl::algorithms {

enum class StdKind { kUnbiased, kPopulation };

struct GroupStats {
  at::Tensor mean;   // [P, 1]
  at::Tensor std;    // [P, 1]
  at::Tensor count;  // [P, 1] valid rollouts
};

// values [P, G], valid [P, G] bool. Rows that are not valid do not enter mean or std. A group with
// fewer valid rows than the std needs (1 for population, 2 for unbiased) gets std 0.
GroupStats group_stats(const at::Tensor& values, const at::Tensor& valid, StdKind kind);

}  // namespace vecrl::algorithms
