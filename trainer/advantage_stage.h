#pragma once
// Stage 3 of an RL step: advantages from the reward vectors, under the vector-reward contract
// (algorithms/advantage.h): the trained weights, the KL penalty in the reward where the estimator
// defines it, group keys for per-group randomness, and top-up groups that count for nothing.
#include "trainer/run_config.h"
#include "trainer/step_context.h"

namespace vecrl::algorithms {
class AdvantageEstimator;
}
namespace vecrl::distributed {
class Communicator;
}

namespace vecrl::trainer {

// kl_in_reward.coef > 0 with an estimator that gives the penalty no meaning (AC, GDPO, JEPO) is an
// error naming both keys.
void check_kl_in_reward(const RunConfig& config, const algorithms::AdvantageEstimator& estimator);

// Fills ctx.advantages (zero on top-up rows), ctx.likelihood_weights and ctx.loss_mask (the
// response tokens of rows that are not top-up, and not truncated when overlong_filter is on).
void compute_advantages(StepContext& ctx, const algorithms::AdvantageEstimator& estimator,
                        distributed::Communicator& comm, bool overlong_filter);

}  // namespace vecrl::trainer
