#pragma once
// Stage 1 of an RL step: this rank's prompts, G rollouts each, scored by the reward set. With
// dynamic sampling (DAPO) it resamples until every rank holds its share of groups that carry a
// learning signal for the configured estimator (AdvantageEstimator::group_has_signal: VPO's answer
// sets, HDPO's channels, ...) or the round cap is hit, and tops the batch up with groups without
// signal, marked so that they get no advantage and no loss.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "core/batch.h"
#include "core/metrics.h"
#include "trainer/run_config.h"

namespace vecrl::algorithms {
class AdvantageEstimator;
}
namespace vecrl::distributed {
class Communicator;
}
namespace vecrl::rewards {
class RewardSet;
}
namespace vecrl::models {
class Tokenizer;
}

namespace vecrl::trainer {

class PromptDataset;
class RolloutGenerator;

struct SampledBatch {
  core::Rollouts rollouts;
  core::RewardMatrix rewards;        // [N, M, K]
  at::Tensor top_up;                 // [N] bool: rows of groups that only fill the batch up
  std::vector<uint64_t> group_keys;  // [P] the sampling seed of each group's prompt
};

class BatchSampler {
 public:
  BatchSampler(const RunConfig& config, PromptDataset& data, const RolloutGenerator& generator,
               rewards::RewardSet& rewards, const algorithms::AdvantageEstimator& estimator,
               distributed::Communicator& comm, const models::Tokenizer& tokenizer);

  // This rank's share of step `step`'s batch; adds timing_s/reward and the sampling/* metrics.
  SampledBatch sample(int64_t step, core::MetricMap& metrics);

 private:
  SampledBatch sample_round(int64_t step, int64_t round, double& reward_seconds);
  // [P] bool: the groups of `batch` with a learning signal for the estimator.
  std::vector<bool> groups_with_signal(const SampledBatch& batch) const;
  double global_sum(double local) const;

  const RunConfig& config_;
  PromptDataset& data_;
  const RolloutGenerator& generator_;
  rewards::RewardSet& rewards_;
  const algorithms::AdvantageEstimator& estimator_;
  distributed::Communicator& comm_;
  const models::Tokenizer& tokenizer_;
  int64_t local_prompts_ = 0;
};

// The groups `groups` of a sampled batch, in that order.
SampledBatch select_groups(const SampledBatch& batch, const std::vector<int64_t>& groups);

}  // namespace vecrl::trainer
