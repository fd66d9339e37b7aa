#include "rewards/reward_set.h"

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include <cmath>

namespace vecrl::rewards {

RewardSet::RewardSet(std::vector<core::ComponentSpec> specs) {
  VECRL_CHECK(!specs.empty(), "config key 'rewards': at least one reward module is required");
  for (auto& spec : specs) {
    Entry entry;
    entry.name = spec.type;
    entry.weight = 1.0;
    spec.node->field("name", entry.name);
    spec.node->field("weight", entry.weight);
    spec.node->require(std::isfinite(entry.weight), "weight", "must be finite");
    entry.module = core::create_component(reward_registry(), spec);
    for (const auto& dim : entry.module->dims()) {
      names_.push_back(entry.name + "/" + dim.name);
      weights_.push_back(entry.weight);
    }
    entries_.push_back(std::move(entry));
  }
  for (std::size_t i = 0; i < names_.size(); ++i)
    for (std::size_t j = i + 1; j < names_.size(); ++j)
      VECRL_CHECK(names_[i] != names_[j], "config key 'rewards': dimension '", names_[i],
                  "' appears twice; give the modules distinct `name`s");
}

core::RewardMatrix RewardSet::score(const core::Rollouts& rollouts) {
  std::vector<core::RewardMatrix> parts;
  for (const auto& entry : entries_) {
    const auto dims = entry.module->dims();
    std::vector<std::string> names;
    for (const auto& d : dims) names.push_back(entry.name + "/" + d.name);
    core::RewardMatrix part;
    try {
      part = entry.module->score(rollouts);
      VECRL_CHECK(part.values.dim() == 3 && part.values.size(0) == rollouts.size() &&
                      part.values.size(2) == static_cast<int64_t>(dims.size()),
                  "reward module '", entry.name, "' returned values of shape ", part.values.sizes());
      part.names = names;
    } catch (const std::exception& e) {
      ++failures_;
      spdlog::warn("reward module '{}' failed on this batch; its dimensions are marked not-valid: {}", entry.name,
                   e.what());
      part = core::RewardMatrix::zeros(rollouts.size(), 1, names);
      part.valid.fill_(false);
    }
    parts.push_back(std::move(part));
  }
  return core::RewardMatrix::concat(parts);
}

core::MetricMap RewardSet::metrics(const core::RewardMatrix& rewards, const std::vector<double>& weights) {
  core::MetricMap out;
  for (int64_t k = 0; k < rewards.dims(); ++k) {
    auto valid = rewards.valid.select(2, k).flatten();
    auto values = rewards.values.select(2, k).flatten().masked_select(valid).to(at::kDouble);
    const std::string prefix = "rewards/" + rewards.names[k];
    out[prefix + "/mean"] = values.numel() > 0 ? values.mean().item<double>() : NAN;
    out[prefix + "/std"] = values.numel() > 1 ? values.std(/*unbiased=*/false).item<double>() : 0.0;
    out[prefix + "/valid_frac"] = valid.to(at::kDouble).mean().item<double>();
  }
  // The weighted total over rollouts whose weighted dimensions are all valid (a failed module
  // does not pull the score down as if it had scored 0).
  auto w = at::tensor(weights, at::kDouble);
  auto valid = rewards.valid.select(1, 0).logical_or((w == 0).unsqueeze(0)).all(1);
  auto total = (rewards.values.select(1, 0).to(at::kDouble) * w).sum(1).masked_select(valid);
  const bool any = total.numel() > 0;
  out["critic/score/mean"] = any ? total.mean().item<double>() : NAN;
  out["critic/score/max"] = any ? total.max().item<double>() : NAN;
  out["critic/score/min"] = any ? total.min().item<double>() : NAN;
  return out;
}

}  // namespace vecrl::rewards
