#pragma once
// Stage 2 of an RL step: the log-probs of the sampled responses under the policy before the update
// (old) and under the reference model, without gradients and micro-batched, and the KL penalty in
// the reward (kl_in_reward) that the reference defines.
#include <c10/core/Device.h>

#include "trainer/run_config.h"
#include "trainer/step_context.h"

namespace vecrl::models {
class PolicyRunner;
class CausalLM;
}  // namespace vecrl::models

namespace vecrl::trainer {

class LogprobPass {
 public:
  LogprobPass(const RunConfig& config, models::PolicyRunner& runner, c10::Device device);

  // Fills ctx.old_logprobs, ctx.ref_logprobs (with a reference) and ctx.token_penalty
  // (kl_in_reward.coef > 0), and their timing_s/* metrics.
  void run(StepContext& ctx) const;

 private:
  // [N, T] log-probs of every response under `model` (0 on padding), on the host.
  at::Tensor score_all(models::CausalLM& model, const core::Rollouts& rollouts) const;

  const RunConfig& config_;
  models::PolicyRunner& runner_;
  c10::Device device_;
};

}  // namespace vecrl::trainer
