#pragma once
// Policy losses: (logp, old_logp, ref_logp, advantages, mask) -> scalar loss and metrics.
// One file per loss, registered by name: VECRL_REGISTER(policy_loss_registry(), "ppo_clip", ...).
#include <ATen/core/Tensor.h>

#include <map>
#include <string>

#include "algorithms/aggregation.h"
#include "core/config.h"
#include "core/registry.h"

namespace vecrl::algorithms {

struct LossInput {
  at::Tensor logprobs;      // [B, T] current policy, requires grad
  at::Tensor old_logprobs;  // [B, T] policy that generated / started this update
  at::Tensor ref_logprobs;  // [B, T] reference model; undefined when no KL is used
  at::Tensor advantages;    // [B, T]
  at::Tensor mask;          // [B, T] bool, tokens that count
  Normalizers normalizers;  // global over the mini-batch
};

struct LossOutput {
  at::Tensor loss;  // scalar, this micro-batch's contribution to the mini-batch loss
  // Metric contributions, normalised like the loss so that summing over micro-batches gives the
  // mini-batch value (e.g. "actor/pg_clipfrac").
  std::map<std::string, double> metrics;
};

class PolicyLoss {
 public:
  virtual ~PolicyLoss() = default;
  virtual LossOutput compute(const LossInput& input) const = 0;
  // Whether compute() needs ref_logprobs (so the runner knows whether to load a reference model).
  virtual bool needs_reference() const = 0;
};

using PolicyLossRegistry = core::Registry<PolicyLoss, core::ConfigNode&>;
PolicyLossRegistry& policy_loss_registry();

}  // namespace vecrl::algorithms
