// PPO-clip token loss (verl compute_policy_loss_vanilla; algorithms.md §0, §1.7):
//   rho = exp(clamp(logp - old_logp, -20, 20))
//   l   = -min(rho A, clip(rho, 1 - clip_low, 1 + clip_high) A), and for A < 0 with dual-clip
//   l   = min(l, -clip_ratio_c A)
// plus the shared knobs of ClippedLossOptions (KL in the loss, entropy bonus, advantage clipping,
// truncated importance sampling), all aggregated with the same global normalisers.
#include <ATen/ATen.h>

#include "algorithms/policy_loss.h"

namespace vecrl::algorithms {
namespace {

class PpoClip : public ClippedPolicyLoss {
 public:
  using ClippedPolicyLoss::ClippedPolicyLoss;

 protected:
  at::Tensor log_ratio(const LossInput& in) const override {
    return (in.logprobs - in.old_logprobs).clamp(-20, 20);
  }
};

VECRL_REGISTER(policy_loss_registry(), "ppo_clip",
               (core::make_configured<PolicyLoss, ClippedLossOptions, PpoClip>));

}  // namespace
}  // namespace vecrl::algorithms
