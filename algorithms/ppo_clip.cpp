// PPO-clip token loss (verl compute_policy_loss_vanilla; algorithms.md §0, §1.7):
//   rho = exp(clamp(logp - old_logp, -20, 20))
//   l   = -min(rho A, clip(rho, 1 - clip_low, 1 + clip_high) A), and for A < 0 with dual-clip
//   l   = min(l, -clip_ratio_c A)
// plus kl_coef * k(logp, ref_logp) in the loss (GRPO's KL term), both aggregated with the same
// normalisers.
#include <ATen/ATen.h>

#include "algorithms/kl.h"
#include "algorithms/policy_loss.h"

namespace vecrl::algorithms {
namespace {

struct PpoClipOptions {
  double clip_low = 0.2;
  double clip_high = 0.2;
  double clip_ratio_c = 3.0;  // dual-clip bound for negative advantages; 0 disables it
  double kl_coef = 0.0;
  KlEstimator kl_estimator = KlEstimator::kK3;
  Aggregation aggregation = Aggregation::kTokenMean;
  double constant_length = 0;  // L_const of seq-mean-token-sum-norm; 0 = max_new_tokens

  template <class V>
  void visit(V& v) {
    v.field("clip_low", clip_low);
    v.field("clip_high", clip_high);
    v.field("clip_ratio_c", clip_ratio_c);
    v.field("kl_coef", kl_coef);
    v.choice("kl_estimator", kl_estimator,
             {{"k1", KlEstimator::kK1}, {"k2", KlEstimator::kK2}, {"k3", KlEstimator::kK3}});
    v.choice("aggregation", aggregation,
             {{"token-mean", Aggregation::kTokenMean},
              {"seq-mean-token-mean", Aggregation::kSeqMeanTokenMean},
              {"seq-mean-token-sum", Aggregation::kSeqMeanTokenSum},
              {"seq-mean-token-sum-norm", Aggregation::kSeqMeanTokenSumNorm}});
    v.field("constant_length", constant_length);
    v.require(clip_low > 0 && clip_low < 1, "clip_low", core::str_cat("must be in (0, 1), got ", clip_low));
    v.require(clip_high > 0, "clip_high", core::str_cat("must be > 0, got ", clip_high));
    v.require(clip_ratio_c == 0 || clip_ratio_c > 1, "clip_ratio_c",
              core::str_cat("must be 0 (off) or > 1, got ", clip_ratio_c));
    v.require(kl_coef >= 0, "kl_coef", core::str_cat("must be >= 0, got ", kl_coef));
    v.require(constant_length >= 0, "constant_length", core::str_cat("must be >= 0, got ", constant_length));
  }
};

class PpoClip : public PolicyLoss {
 public:
  explicit PpoClip(PpoClipOptions options) : options_(options) {}

  bool needs_reference() const override { return options_.kl_coef > 0; }

  LossOutput compute(const LossInput& in) const override {
    Normalizers norm = in.normalizers;
    if (options_.constant_length > 0) norm.constant_length = options_.constant_length;
    auto log_ratio = (in.logprobs - in.old_logprobs).clamp(-20, 20);  // [B, T]
    auto ratio = log_ratio.exp();
    auto unclipped = -in.advantages * ratio;
    auto clipped = -in.advantages * ratio.clamp(1 - options_.clip_low, 1 + options_.clip_high);
    auto pg = at::maximum(unclipped, clipped);
    auto clip_hit = (clipped > unclipped).to(at::kFloat);
    if (options_.clip_ratio_c > 0) {
      auto bound = -in.advantages * options_.clip_ratio_c;
      auto dual = at::minimum(pg, bound);
      auto negative = in.advantages < 0;
      clip_hit = at::where(negative.logical_and(pg > bound), at::ones_like(clip_hit), clip_hit);
      pg = at::where(negative, dual, pg);
    }
    auto pg_loss = aggregate(pg, in.mask, options_.aggregation, norm);
    LossOutput out;
    out.loss = pg_loss;
    auto token_mean = [&](const at::Tensor& v) {
      return aggregate(v.detach(), in.mask, Aggregation::kTokenMean, norm).item<double>();
    };
    out.metrics["actor/pg_loss"] = pg_loss.item<double>();
    out.metrics["actor/pg_clipfrac"] = token_mean(clip_hit);
    out.metrics["actor/ppo_kl"] = token_mean(-log_ratio);
    if (options_.kl_coef > 0) {
      TORCH_CHECK(in.ref_logprobs.defined(), "ppo_clip: kl_coef > 0 needs reference log-probs");
      auto kl = aggregate(kl_estimate(options_.kl_estimator, in.logprobs, in.ref_logprobs), in.mask,
                          options_.aggregation, norm);
      out.loss = out.loss + options_.kl_coef * kl;
      out.metrics["actor/kl_loss"] = kl.item<double>();
    }
    return out;
  }

 private:
  PpoClipOptions options_;
};

VECRL_REGISTER(policy_loss_registry(), "ppo_clip", (core::make_configured<PolicyLoss, PpoClipOptions, PpoClip>));

}  // namespace
}  // namespace vecrl::algorithms
