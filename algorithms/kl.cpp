#include "algorithms/kl.h"

#include <ATen/ATen.h>

namespace vecrl::algorithms {

at::Tensor kl_k1(const at::Tensor& logp, const at::Tensor& ref_logp) { return logp - ref_logp; }

at::Tensor kl_k2(const at::Tensor& logp, const at::Tensor& ref_logp) { return 0.5 * (logp - ref_logp).pow(2); }

at::Tensor kl_k3(const at::Tensor& logp, const at::Tensor& ref_logp) {
  auto log_ratio = (ref_logp - logp).clamp(-20, 20);
  return (log_ratio.exp() - log_ratio - 1).clamp(-10, 10);
}

const std::vector<std::pair<std::string, KlEstimator>>& kl_estimator_names() {
  static const std::vector<std::pair<std::string, KlEstimator>> names = {
      {"k1", KlEstimator::kK1}, {"k2", KlEstimator::kK2}, {"k3", KlEstimator::kK3}, {"k3+", KlEstimator::kK3Plus}};
  return names;
}

at::Tensor kl_estimate(KlEstimator kind, const at::Tensor& logp, const at::Tensor& ref_logp) {
  switch (kind) {
    case KlEstimator::kK1: return kl_k1(logp, ref_logp);
    case KlEstimator::kK2: return kl_k2(logp, ref_logp);
    case KlEstimator::kK3: return kl_k3(logp, ref_logp);
    case KlEstimator::kK3Plus: {
      auto k2 = kl_k2(logp, ref_logp);
      return kl_k3(logp, ref_logp).detach() + k2 - k2.detach();
    }
  }
  return kl_k3(logp, ref_logp);
}

}  // namespace vecrl::algorithms
