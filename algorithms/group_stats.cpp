#include "algorithms/group_stats.h"

#include <ATen/ATen.h>

namespace vecrl::algorithms {

GroupStats group_stats(const at::Tensor& values, const at::Tensor& valid, StdKind kind) {
  auto v = values.to(at::kDouble);
  auto m = valid.to(at::kDouble);
  auto count = m.sum(1, /*keepdim=*/true);
  auto mean = (v * m).sum(1, true) / count.clamp_min(1);
  auto sq = ((v - mean).pow(2) * m).sum(1, true);
  const double ddof = kind == StdKind::kUnbiased ? 1.0 : 0.0;
  auto enough = count > ddof;
  auto std = at::where(enough, (sq / (count - ddof).clamp_min(1)).sqrt(), at::zeros_like(sq));
  return {mean, std, count};
}

}  // namespace vecrl::algorithms
