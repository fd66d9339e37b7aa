#pragma once
// KL estimators of KL(pi_theta || pi_ref) per token (Schulman, "Approximating KL divergence"),
// with log r = logp_ref - logp. Inputs and outputs are [B, T].
#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace vecrl::algorithms {

// k3+ : the value of k3 with the gradient of k2 (verl's straight-through "k3+").
enum class KlEstimator { kK1, kK2, kK3, kK3Plus };

const std::vector<std::pair<std::string, KlEstimator>>& kl_estimator_names();

at::Tensor kl_k1(const at::Tensor& logp, const at::Tensor& ref_logp);  // logp - ref
at::Tensor kl_k2(const at::Tensor& logp, const at::Tensor& ref_logp);  // 0.5 (logp - ref)^2
// exp(ref - logp) - (ref - logp) - 1, with the log-ratio clamped to ±20 and the value to [-10, 10]
// as verl's low_var_kl does, so one outlier token cannot blow up the loss.
at::Tensor kl_k3(const at::Tensor& logp, const at::Tensor& ref_logp);
at::Tensor kl_estimate(KlEstimator kind, const at::Tensor& logp, const at::Tensor& ref_logp);

}  // namespace vecrl::algorithms
