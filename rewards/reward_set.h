#pragma once
// Several reward modules composed as configured in `rewards:`; each entry has a `type`, an
// optional `name` (default: the type), a `weight` applied to each of its dimensions, and the
// module's own options. Dimensions are named "<name>/<dim>".
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/metrics.h"
#include "rewards/reward_module.h"

namespace vecrl::rewards {

class RewardSet {
 public:
  explicit RewardSet(std::vector<core::ComponentSpec> specs);

  // Scores every module. A module that throws marks its dimensions not-valid for the batch (and is
  // counted in failures()) instead of ending the run.
  core::RewardMatrix score(const core::Rollouts& rollouts);

  const std::vector<std::string>& dim_names() const { return names_; }
  const std::vector<double>& weights() const { return weights_; }
  int64_t failures() const { return failures_; }

  // rewards/<name>/<dim>/{mean,std} over valid entries, and the weighted total's mean.
  static core::MetricMap metrics(const core::RewardMatrix& rewards, const std::vector<double>& weights);

 private:
  struct Entry {
    std::string name;
    double weight;
    std::unique_ptr<RewardModule> module;
  };
  std::vector<Entry> entries_;
  std::vector<std::string> names_;
  std::vector<double> weights_;
  int64_t failures_ = 0;
};

}  // namespace vecrl::rewards
