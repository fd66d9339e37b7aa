#include "trainer/advantage_stage.h"

#include <ATen/ATen.h>

#include "algorithms/advantage.h"
#include "distributed/communicator.h"

namespace vecrl::trainer {

void check_kl_in_reward(const RunConfig& c, const algorithms::AdvantageEstimator& estimator) {
  if (c.kl_in_reward.coef <= 0 || estimator.kl_in_reward() != algorithms::KlInReward::kUnsupported) return;
  throw core::Error(core::str_cat(c.advantage.node->location("type"), ": config keys 'kl_in_reward.coef' (",
                                  c.kl_in_reward.coef, ") and 'advantage.type' (", c.advantage.type, "): ",
                                  c.advantage.type,
                                  " has no combined reward for a KL penalty to enter; put the KL in the loss "
                                  "(loss.kl_coef) or pick an estimator that takes it (README, Estimators)"));
}

void compute_advantages(StepContext& ctx, const algorithms::AdvantageEstimator& estimator,
                        distributed::Communicator& comm, bool overlong_filter) {
  const auto& r = ctx.rollouts;
  // Top-up rows as not-valid rewards: every estimator leaves them out of its statistics.
  auto visible = ctx.rewards;
  visible.valid = visible.valid.logical_and(ctx.top_up.logical_not().view({-1, 1, 1}));
  const algorithms::AdvantageInput input{visible,
                                         ctx.weights,
                                         r.group_size,
                                         r.response_mask,
                                         [&comm](at::Tensor& t) { comm.all_reduce_sum(t); },
                                         ctx.token_penalty,
                                         ctx.group_keys};
  ctx.advantages = estimator.compute(input);
  // Top-up groups carry nothing, whatever an estimator (a plugin's too) made of them.
  ctx.advantages.values.masked_fill_(ctx.top_up.unsqueeze(0), 0);
  if (ctx.advantages.token_values.defined()) ctx.advantages.token_values.masked_fill_(ctx.top_up.view({1, -1, 1}), 0);
  ctx.likelihood_weights = estimator.likelihood_term_weights(input);
  ctx.loss_mask = r.response_mask.logical_and(ctx.top_up.logical_not().unsqueeze(1));
  // Overlong filtering (DAPO): truncated responses stay in the statistics but get no loss.
  if (overlong_filter) ctx.loss_mask = ctx.loss_mask.logical_and(r.truncated.logical_not().unsqueeze(1));
}

}  // namespace vecrl::trainer
