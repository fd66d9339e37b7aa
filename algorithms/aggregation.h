#pragma once
// Loss aggregation (verl agg_loss). Normalisers are passed in, computed over the whole mini-batch
// (and over all ranks), so the sum of micro-batch losses equals the mini-batch loss whatever the
// micro-batch size.
#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace vecrl::algorithms {

enum class Aggregation { kTokenMean, kSeqMeanTokenMean, kSeqMeanTokenSum, kSeqMeanTokenSumNorm };

// "token-mean", "seq-mean-token-mean", "seq-mean-token-sum", "seq-mean-token-sum-norm".
const std::vector<std::pair<std::string, Aggregation>>& aggregation_names();

struct Normalizers {
  double tokens = 1;          // loss tokens in the mini-batch
  double sequences = 1;       // sequences in the mini-batch
  double constant_length = 1;  // L_const for seq-mean-token-sum-norm (max response length)
};

// values, mask [B, T] -> scalar contribution of these rows to the mini-batch loss.
at::Tensor aggregate(const at::Tensor& values, const at::Tensor& mask, Aggregation mode, const Normalizers& norm);

}  // namespace vecrl::algorithms
