#include "algorithms/aggregation.h"

#include <ATen/ATen.h>

namespace vecrl::algorithms {

const std::vector<std::pair<std::string, Aggregation>>& aggregation_names() {
  static const std::vector<std::pair<std::string, Aggregation>> names = {
      {"token-mean", Aggregation::kTokenMean},
      {"seq-mean-token-mean", Aggregation::kSeqMeanTokenMean},
      {"seq-mean-token-sum", Aggregation::kSeqMeanTokenSum},
      {"seq-mean-token-sum-norm", Aggregation::kSeqMeanTokenSumNorm}};
  return names;
}

at::Tensor aggregate(const at::Tensor& values, const at::Tensor& mask, Aggregation mode, const Normalizers& norm) {
  auto m = mask.to(values.scalar_type());
  auto masked = values * m;
  switch (mode) {
    case Aggregation::kTokenMean: return masked.sum() / norm.tokens;
    case Aggregation::kSeqMeanTokenMean: return (masked.sum(1) / m.sum(1).clamp_min(1)).sum() / norm.sequences;
    case Aggregation::kSeqMeanTokenSum: return masked.sum() / norm.sequences;
    case Aggregation::kSeqMeanTokenSumNorm: return masked.sum() / (norm.sequences * norm.constant_length);
  }
  return masked.sum() / norm.tokens;
}

}  // namespace vecrl::algorithms
