#pragma once
// Stage 5 of an RL step: the metrics of the global batch, under verl's names. Per-rollout
// quantities are gathered from every rank, so each rank computes exactly what one process would;
// timings are the slowest rank's.
#include <cstdint>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "trainer/step_context.h"

namespace vecrl::distributed {
class Communicator;
}

namespace vecrl::trainer {

// rewards/<dim>/*, critic/score/*, critic/advantages/*, frac_reward_zero_std, response_length/*,
// tools/* (agent loop), sampling/logp_diff/*, actor/reward_kl_penalty* (kl_in_reward) and
// rewards/module_failures (`module_failures` on this rank), added to ctx.metrics.
void add_batch_metrics(StepContext& ctx, distributed::Communicator& comm, int64_t module_failures,
                       double kl_in_reward_coef);

// timing_s/step, the slowest rank's timing_s/*, perf/throughput (response tokens per second per
// rank) and perf/max_memory_gb (peak resident memory of the largest rank).
void add_timing_metrics(core::MetricMap& metrics, distributed::Communicator& comm, double step_seconds);

// Appends the first `count` rollouts of the step (prompt, response, reward vector, advantage) to the
// JSON-lines file `path`.
void append_samples(const std::string& path, const StepContext& ctx, int64_t count);

// One console line per step: progress, the trained reward dimensions, KL, length, throughput, ETA.
std::string format_line(int64_t step, int64_t total, const core::MetricMap& metrics,
                        const std::vector<std::string>& dims, double seconds_per_step);

}  // namespace vecrl::trainer
