#include "algorithms/policy_loss.h"

#include <ATen/ATen.h>

namespace vecrl::algorithms {

PolicyLossRegistry& policy_loss_registry() {
  static PolicyLossRegistry registry("policy loss");
  return registry;
}

LossOutput PolicyLoss::compute(const LossInput& input) const {
  auto out = surrogate(input);
  auto extra = regularizers(input);
  if (extra.loss.defined()) out.loss = out.loss + extra.loss;
  out.metrics.insert(extra.metrics.begin(), extra.metrics.end());
  return out;
}

namespace {

Normalizers with_constant_length(Normalizers norm, double constant_length) {
  if (constant_length > 0) norm.constant_length = constant_length;
  return norm;
}

}  // namespace

LossOutput ClippedPolicyLoss::surrogate(const LossInput& in) const {
  const auto& o = options_;
  const Normalizers norm = with_constant_length(in.normalizers, o.constant_length);
  auto adv = o.advantage_clip > 0 ? in.advantages.clamp(-o.advantage_clip, o.advantage_clip) : in.advantages;
  auto log_rho = log_ratio(in);  // [B, T]
  auto ratio = log_rho.exp();
  auto unclipped = -adv * ratio;
  auto clipped = -adv * ratio.clamp(1 - o.clip_low, 1 + o.clip_high);
  auto pg = at::maximum(unclipped, clipped);
  auto clip_hit = (clipped > unclipped);
  if (o.clip_ratio_c > 0) {
    auto bound = -adv * o.clip_ratio_c;
    auto negative = adv < 0;
    clip_hit = clip_hit.logical_or(negative.logical_and(pg > bound));
    pg = at::where(negative, at::minimum(pg, bound), pg);
  }
  if (o.tis_cap > 0 && in.behaviour_logprobs.defined()) {
    // Correct for the rollout engine's numerics: weight by pi_old / pi_behaviour, truncated.
    auto weight = (in.old_logprobs - in.behaviour_logprobs).clamp(-20, 20).exp().clamp_max(o.tis_cap);
    pg = pg * weight.detach();
  }
  LossOutput out;
  auto pg_loss = aggregate(pg, in.mask, o.aggregation, norm);
  out.loss = pg_loss;
  auto token_mean = [&](const at::Tensor& v) {
    return aggregate(v.detach().to(pg.scalar_type()), in.mask, Aggregation::kTokenMean, norm).item<double>();
  };
  out.metrics["actor/pg_loss"] = pg_loss.item<double>();
  out.metrics["actor/pg_clipfrac"] = token_mean(clip_hit);
  out.metrics["actor/ppo_kl"] = token_mean(in.old_logprobs - in.logprobs);
  return out;
}

LossOutput ClippedPolicyLoss::regularizers(const LossInput& in) const {
  const auto& o = options_;
  const Normalizers norm = with_constant_length(in.normalizers, o.constant_length);
  LossOutput out;
  if (o.kl_coef > 0) {
    VECRL_CHECK(in.ref_logprobs.defined(), "policy loss: kl_coef > 0 needs reference log-probs");
    auto kl = aggregate(kl_estimate(o.kl_estimator, in.logprobs, in.ref_logprobs), in.mask, o.aggregation, norm);
    out.loss = o.kl_coef * kl;
    out.metrics["actor/kl_loss"] = kl.item<double>();
  }
  if (o.entropy_coef > 0) {
    VECRL_CHECK(in.entropy.defined(), "policy loss: entropy_coef > 0 needs the entropy");
    auto entropy = aggregate(in.entropy, in.mask, o.aggregation, norm);
    out.loss = out.loss.defined() ? out.loss - o.entropy_coef * entropy : -o.entropy_coef * entropy;
    out.metrics["actor/entropy_loss"] = entropy.item<double>();
  }
  return out;
}

}  // namespace vecrl::algorithms
