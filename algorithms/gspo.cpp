// GSPO (Group Sequence Policy Optimization, arXiv 2507.18071), token form: every token of rollout
// i uses the length-normalised sequence ratio
//   s_i = exp( (1/|o_i|) sum_t (logp_t - old_logp_t) ),   s_{i,t} = sg[s_i] * exp(logp_t - sg[logp_t]),
// whose value is s_i and whose gradient is s_i * grad logp_t (the sequence-level gradient when the
// advantage is per sequence). Defaults follow the paper: clip 3e-4 / 4e-4, no dual clip,
// seq-mean-token-mean aggregation.
#include <ATen/ATen.h>

#include "algorithms/policy_loss.h"

namespace vecrl::algorithms {
namespace {

struct GspoOptions : ClippedLossOptions {
  GspoOptions() {
    clip_low = 3e-4;
    clip_high = 4e-4;
    clip_ratio_c = 0;
    aggregation = Aggregation::kSeqMeanTokenMean;
  }
};

class Gspo : public ClippedPolicyLoss {
 public:
  using ClippedPolicyLoss::ClippedPolicyLoss;

 protected:
  at::Tensor log_ratio(const LossInput& in) const override {
    auto m = in.mask.to(in.logprobs.scalar_type());
    auto seq = ((in.logprobs - in.old_logprobs) * m).sum(1, true) / m.sum(1, true).clamp_min(1);  // [B, 1]
    auto log_s = seq.clamp(-20, 20).detach();
    return log_s + in.logprobs - in.logprobs.detach();
  }
};

VECRL_REGISTER(policy_loss_registry(), "gspo", (core::make_configured<PolicyLoss, GspoOptions, Gspo>));

}  // namespace
}  // namespace vecrl::algorithms
