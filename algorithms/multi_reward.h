#pragma once
// Per-dimension helpers for the multi-reward estimators (AC, GDPO, DVAO). Legend as in advantage.h.
#include <ATen/core/Tensor.h>

#include "algorithms/advantage.h"
#include "algorithms/group_stats.h"

namespace vecrl::algorithms {

// Options of the per-dimension z-score estimators (ac, gdpo). Defaults follow TRL/GDPO: unbiased
// std, eps 1e-4.
struct ZScoreOptions {
  StdKind std = StdKind::kUnbiased;
  double eps = 1e-4;

  template <class V>
  void visit(V& v) {
    v.choice("std", std, std_kind_names());
    v.field("eps", eps);
    v.require(eps >= 0, "eps", core::str_cat("must be >= 0, got ", eps));
  }
};

struct DimensionView {
  at::Tensor values;  // [P, G, K] float64, answer 0
  at::Tensor valid;   // [P, G, K] bool
  at::Tensor row_valid;  // [P, G] bool: every dimension with a non-zero weight is valid
  at::Tensor weights;    // [K] float64, as configured
};

DimensionView dimension_view(const AdvantageInput& input);

// Advantage combination (DVAO's preliminaries, algorithms.md §2): per-dimension group z-scores
// summed with the weights normalised to sum_k |w_k| = 1, sum_k w_k z_k / sum_k |w_k|, so that the
// advantage's scale does not grow with the weights (the papers' weights are convex already). Entries
// that are not valid do not enter their dimension's statistics and contribute 0. Returns [P, G]
// float64.
at::Tensor advantage_combination(const DimensionView& view, StdKind kind, double eps);

// [P] bool: some trained dimension varies among the group's rows whose trained dimensions are all
// valid (what advantage combination can turn into a non-zero advantage).
at::Tensor any_dimension_varies(const DimensionView& view);

}  // namespace vecrl::algorithms
