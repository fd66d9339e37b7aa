#pragma once
// Policy losses: (logp, old_logp, ref_logp, advantages, mask) -> scalar loss and metrics.
// One file per loss, registered by name at its bottom:
//   VECRL_REGISTER(policy_loss_registry(), "ppo_clip", (core::make_configured<PolicyLoss, Opts, Impl>));
// Legend: B rollouts in the micro-batch, T response tokens.
#include <ATen/core/Tensor.h>

#include <map>
#include <string>

#include "algorithms/aggregation.h"
#include "algorithms/kl.h"
#include "core/config.h"
#include "core/registry.h"

namespace vecrl::algorithms {

struct LossInput {
  at::Tensor logprobs;            // [B, T] current policy, requires grad
  at::Tensor old_logprobs;        // [B, T] policy at the start of this update (recomputed)
  at::Tensor behaviour_logprobs;  // [B, T] recorded by the rollout engine; undefined = old_logprobs
  at::Tensor ref_logprobs;        // [B, T] reference model; undefined when no KL is used
  at::Tensor entropy;             // [B, T] policy entropy (with grad); undefined when not needed
  at::Tensor advantages;          // [B, T]
  at::Tensor mask;                // [B, T] bool, tokens that count
  Normalizers normalizers;        // global over the mini-batch (and ranks)
};

struct LossOutput {
  at::Tensor loss;  // scalar, this micro-batch's contribution to the mini-batch loss
  // Metric contributions, normalised like the loss so that summing over micro-batches gives the
  // mini-batch value (e.g. "actor/pg_clipfrac").
  std::map<std::string, double> metrics;
};

// A loss has two parts, which the trainer adds differently when an estimator gives several
// advantage channels (HDPO): the surrogate once per channel (with that channel's advantages, mask,
// normalisers and weight), the regularizers (KL to the reference, entropy bonus: terms that do not
// depend on advantages) once per update over the response tokens.
class PolicyLoss {
 public:
  virtual ~PolicyLoss() = default;
  // The policy-gradient surrogate of one advantage channel.
  virtual LossOutput surrogate(const LossInput& input) const = 0;
  // The terms independent of the advantages; none by default.
  virtual LossOutput regularizers(const LossInput& input) const { return {}; }
  // surrogate + regularizers on one input: the whole loss of a single-channel estimator.
  LossOutput compute(const LossInput& input) const;
  // Whether compute() needs ref_logprobs / entropy, so the trainer loads and computes only those.
  virtual bool needs_reference() const = 0;
  virtual bool needs_entropy() const = 0;
};

using PolicyLossRegistry = core::Registry<PolicyLoss, core::ConfigNode&>;
PolicyLossRegistry& policy_loss_registry();

// The knobs shared by the clipped surrogate losses (defaults: verl).
struct ClippedLossOptions {
  double clip_low = 0.2;
  double clip_high = 0.2;
  double clip_ratio_c = 3.0;  // dual-clip bound for negative advantages; 0 disables it
  double kl_coef = 0.0;       // KL(pi || pi_ref) in the loss
  KlEstimator kl_estimator = KlEstimator::kK3;
  Aggregation aggregation = Aggregation::kTokenMean;
  double constant_length = 0;  // L_const of seq-mean-token-sum-norm; 0 = max_new_tokens
  double entropy_coef = 0.0;   // entropy bonus: loss -= entropy_coef * agg(entropy)
  double advantage_clip = 0.0; // clamp advantages to [-c, c]; 0 disables it
  double tis_cap = 0.0;        // truncated importance sampling: weight min(pi_old/pi_behaviour, cap); 0 = off

  template <class V>
  void visit(V& v) {
    v.field("clip_low", clip_low);
    v.field("clip_high", clip_high);
    v.field("clip_ratio_c", clip_ratio_c);
    v.field("kl_coef", kl_coef);
    v.choice("kl_estimator", kl_estimator, kl_estimator_names());
    v.choice("aggregation", aggregation, aggregation_names());
    v.field("constant_length", constant_length);
    v.field("entropy_coef", entropy_coef);
    v.field("advantage_clip", advantage_clip);
    v.field("tis_cap", tis_cap);
    v.require(clip_low > 0 && clip_low < 1, "clip_low", core::str_cat("must be in (0, 1), got ", clip_low));
    v.require(clip_high > 0, "clip_high", core::str_cat("must be > 0, got ", clip_high));
    v.require(clip_ratio_c == 0 || clip_ratio_c > 1, "clip_ratio_c",
              core::str_cat("must be 0 (off) or > 1, got ", clip_ratio_c));
    v.require(kl_coef >= 0, "kl_coef", core::str_cat("must be >= 0, got ", kl_coef));
    v.require(constant_length >= 0, "constant_length", core::str_cat("must be >= 0, got ", constant_length));
    v.require(entropy_coef >= 0, "entropy_coef", core::str_cat("must be >= 0, got ", entropy_coef));
    v.require(advantage_clip >= 0, "advantage_clip", core::str_cat("must be >= 0, got ", advantage_clip));
    v.require(tis_cap == 0 || tis_cap >= 1, "tis_cap", core::str_cat("must be 0 (off) or >= 1, got ", tis_cap));
  }
};

// A clipped surrogate -min(rho A, clip(rho) A) (+ dual clip), with the shared knobs above;
// subclasses define the importance ratio rho.
class ClippedPolicyLoss : public PolicyLoss {
 public:
  explicit ClippedPolicyLoss(ClippedLossOptions options) : options_(options) {}
  LossOutput surrogate(const LossInput& input) const override;
  // kl_coef * agg(k(logp, ref_logp)) - entropy_coef * agg(entropy), with the loss's aggregation.
  LossOutput regularizers(const LossInput& input) const override;
  bool needs_reference() const override { return options_.kl_coef > 0; }
  bool needs_entropy() const override { return options_.entropy_coef > 0; }

 protected:
  // log rho [B, T] (with grad), already clamped as the loss wants it.
  virtual at::Tensor log_ratio(const LossInput& input) const = 0;
  const ClippedLossOptions& options() const { return options_; }

 private:
  ClippedLossOptions options_;
};

}  // namespace vecrl::algorithms
