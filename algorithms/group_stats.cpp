#include "algorithms/group_stats.h"

#include <ATen/ATen.h>

namespace vecrl::algorithms {

const std::vector<std::pair<std::string, StdKind>>& std_kind_names() {
  static const std::vector<std::pair<std::string, StdKind>> names = {{"unbiased", StdKind::kUnbiased},
                                                                      {"population", StdKind::kPopulation}};
  return names;
}

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

at::Tensor group_normalize(const at::Tensor& values, const at::Tensor& valid, StdKind kind, double eps,
                           bool normalize_std) {
  auto stats = group_stats(values, valid, kind);
  auto centered = values.to(at::kDouble) - stats.mean;
  auto out = normalize_std ? centered / (stats.std + eps) : centered;
  return at::where(valid.logical_and(stats.count > 1), out, at::zeros_like(out));
}

}  // namespace vecrl::algorithms
