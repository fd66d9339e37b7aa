#include "trainer/logprob_pass.h"

#include <torch/types.h>

#include <chrono>

#include "algorithms/kl.h"
#include "models/logprobs.h"
#include "models/policy_runner.h"
#include "trainer/micro_batches.h"

namespace vecrl::trainer {

LogprobPass::LogprobPass(const RunConfig& config, models::PolicyRunner& runner, c10::Device device)
    : config_(config), runner_(runner), device_(device) {}

at::Tensor LogprobPass::score_all(models::CausalLM& model, const core::Rollouts& r) const {
  torch::NoGradGuard no_grad;
  auto out = torch::zeros(r.response_ids.sizes(), r.behaviour_logprobs.options());
  for (const auto& micro : plan_micro_batches(torch::arange(r.size()), r, config_.train.micro_batch_size,
                                              config_.train.micro_batch_tokens)) {
    auto lp = models::score_responses(model, micro.prompt_part(r.prompt_ids).to(device_),
                                      micro.prompt_part(r.prompt_mask).to(device_),
                                      micro.response_part(r.response_ids).to(device_), config_.rollout.temperature,
                                      false)
                  .logprobs.to(torch::kCPU);
    out.index_copy_(0, micro.rows, torch::constant_pad_nd(lp, {0, r.response_ids.size(1) - micro.response_len}));
  }
  return out;
}

void LogprobPass::run(StepContext& ctx) const {
  using Clock = std::chrono::steady_clock;
  auto seconds_since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  auto t = Clock::now();
  ctx.old_logprobs = score_all(runner_.policy(), ctx.rollouts);
  ctx.metrics["timing_s/old_log_prob"] = seconds_since(t);
  if (auto* reference = runner_.reference()) {
    t = Clock::now();
    ctx.ref_logprobs = score_all(*reference, ctx.rollouts);
    ctx.metrics["timing_s/ref"] = seconds_since(t);
  }
  const auto& kl = config_.kl_in_reward;
  if (kl.coef > 0) {
    auto per_token = algorithms::kl_estimate(kl.estimator, ctx.old_logprobs, ctx.ref_logprobs);
    ctx.token_penalty = kl.coef * per_token * ctx.rollouts.response_mask.to(per_token.scalar_type());
  }
}

}  // namespace vecrl::trainer
