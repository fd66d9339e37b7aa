#include "algorithms/multi_reward.h"

#include <ATen/ATen.h>

namespace vecrl::algorithms {

DimensionView dimension_view(const AdvantageInput& input) {
  check_input(input);
  const int64_t G = input.group_size, P = input.num_groups(), K = input.rewards.dims();
  DimensionView view;
  view.values = input.rewards.values.select(1, 0).to(at::kDouble).reshape({P, G, K});
  view.valid = input.rewards.valid.select(1, 0).reshape({P, G, K});
  view.weights = at::tensor(input.weights, at::kDouble);
  auto unused = (view.weights == 0).view({1, 1, K});
  view.row_valid = view.valid.logical_or(unused).all(2);
  return view;
}

at::Tensor advantage_combination(const DimensionView& view, StdKind kind, double eps) {
  const int64_t K = view.values.size(2);
  const double scale = view.weights.abs().sum().item<double>();
  auto total = at::zeros(view.values.sizes().slice(0, 2), at::kDouble);
  for (int64_t k = 0; k < K; ++k) {
    const double w = view.weights[k].item<double>();
    if (w == 0) continue;
    auto valid = view.valid.select(2, k).logical_and(view.row_valid);
    total = total + (w / scale) * group_normalize(view.values.select(2, k), valid, kind, eps, true);
  }
  return at::where(view.row_valid, total, at::zeros_like(total));
}

at::Tensor any_dimension_varies(const DimensionView& view) {
  const int64_t K = view.values.size(2);
  auto any = at::zeros({view.values.size(0)}, at::kBool);
  for (int64_t k = 0; k < K; ++k)
    if (view.weights[k].item<double>() != 0)
      any = any.logical_or(varies_in_group(view.values.select(2, k), view.row_valid));
  return any;
}

}  // namespace vecrl::algorithms
