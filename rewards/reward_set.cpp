#include "rewards/reward_set.h"

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <future>
#include <thread>

namespace vecrl::rewards {

namespace {

// Runs module->score on its own thread and waits up to deadline_s. A call that overruns is
// abandoned: its cancel flag is set, so the module starts nothing more and kills what it runs
// (sandboxed programs die within ~50 ms and their folders are removed), and we wait up to 1 s for
// that before reporting the overrun. A module that ignores the flag cannot be killed (C++
// threads cannot be): it keeps its own copy of the batch and a share of the module, so nothing it
// touches is freed under it, and its result is dropped.
core::RewardMatrix score_with_deadline(const std::shared_ptr<RewardModule>& module, const ScoreBatch& batch,
                                       double deadline_s, const std::string& name) {
  struct Call {
    core::Rollouts rollouts;
    ScoringModels models;
    std::atomic<bool> cancel{false};
    ScoreBatch batch;
    std::shared_ptr<RewardModule> module;
    std::promise<core::RewardMatrix> result;
    Call(const ScoreBatch& b, std::shared_ptr<RewardModule> m)
        : rollouts(b.rollouts),
          models(b.models ? *b.models : ScoringModels{}),
          batch{rollouts, b.answers, b.answers_per_rollout, b.workers, b.token_counts, &models, &cancel},
          module(std::move(m)) {}
  };
  auto call = std::make_shared<Call>(batch, module);
  auto future = call->result.get_future();
  std::thread([call] {
    try {
      call->result.set_value(call->module->score(call->batch));
    } catch (...) {
      call->result.set_exception(std::current_exception());
    }
  }).detach();
  if (future.wait_for(std::chrono::duration<double>(deadline_s)) != std::future_status::ready) {
    call->cancel = true;
    const bool wound_down = future.wait_for(std::chrono::seconds(1)) == std::future_status::ready;
    VECRL_CHECK(false, "reward module '", name, "' did not score the batch within deadline_s = ", deadline_s, " s",
                wound_down ? " (its unfinished work was cancelled)" : " (it is still running: it ignores cancellation)");
  }
  return future.get();
}

std::vector<std::string> split_at_separator(const std::string& response, const SplitOptions& split) {
  std::vector<std::string> answers;
  std::size_t begin = 0;
  for (auto end = response.find(split.separator);
       end != std::string::npos && static_cast<int64_t>(answers.size()) < split.max_answers;
       end = response.find(split.separator, begin)) {
    const auto first = response.find_first_not_of(" \t\n", begin);
    if (first < end) answers.push_back(response.substr(first, end - first));
    begin = end + split.separator.size();
  }
  return answers;
}

}  // namespace

std::vector<std::string> split_answers(const std::string& response, const SplitOptions& split) {
  if (!split.separator.empty()) return split_at_separator(response, split);
  if (split.tag.empty()) return {response};
  const std::string open = "<" + split.tag + ">", close = "</" + split.tag + ">";
  std::vector<std::string> answers;
  for (std::size_t pos = response.find(open);
       pos != std::string::npos && static_cast<int64_t>(answers.size()) < split.max_answers;
       pos = response.find(open, pos)) {
    const auto begin = pos + open.size();
    const auto end = response.find(close, begin);
    if (end == std::string::npos) break;  // an unclosed tag is not an answer
    answers.push_back(response.substr(begin, end - begin));
    pos = end + close.size();
  }
  return answers;
}

RewardSet::RewardSet(std::vector<core::ComponentSpec> specs, ScoringOptions options) : options_(std::move(options)) {
  VECRL_CHECK(options_.split.tag.empty() || options_.split.separator.empty(),
              "config key 'scoring.split': set either `tag` ('", options_.split.tag, "') or `separator` ('",
              options_.split.separator, "'), not both");
  VECRL_CHECK(!specs.empty(), "config key 'rewards': at least one reward module is required");
  for (auto& spec : specs) {
    Entry entry;
    entry.name = spec.type;
    spec.node->field("name", entry.name);
    spec.node->field("weight", entry.weight);
    spec.node->require(std::isfinite(entry.weight), "weight", "must be finite");
    spec.node->field("deadline_s", entry.deadline_s);
    spec.node->require(entry.deadline_s > 0, "deadline_s", core::str_cat("must be > 0, got ", entry.deadline_s));
    std::vector<std::string> weight_overrides;
    spec.node->field("dim_weights", weight_overrides);
    std::vector<core::ComponentSpec> transforms;
    spec.node->component_list("transforms", transforms);
    for (auto& t : transforms) entry.transforms.push_back(core::create_component(transform_registry(), t));
    entry.module = core::create_component(reward_registry(), spec);
    const double item_limit = entry.module->item_time_limit_s();
    spec.node->require(entry.deadline_s >= item_limit, "deadline_s",
                       core::str_cat(entry.deadline_s, " s is shorter than one item's own limit (timeout_s = ", item_limit,
                                     " s): every batch would be abandoned; raise deadline_s or lower timeout_s"));
    entry.dims = entry.module->dims();
    for (const auto& dim : entry.dims) {
      names_.push_back(entry.name + "/" + dim.name);
      weights_.push_back(entry.weight * dim.weight);
    }
    // dim_weights: ["<dim>=<w>", ...] replaces the declared share of listed dimensions.
    for (const auto& item : weight_overrides) {
      const auto eq = item.find('=');
      spec.node->require(eq != std::string::npos, "dim_weights", "expects <dim>=<weight> items, got '" + item + "'");
      const std::string dim = item.substr(0, eq);
      double share = 0;
      try {
        share = std::stod(item.substr(eq + 1));
      } catch (const std::exception&) {
        spec.node->fail("dim_weights", "'" + item + "': the weight is not a number");
      }
      const auto at = std::find_if(entry.dims.begin(), entry.dims.end(), [&](const RewardDim& d) { return d.name == dim; });
      std::string known;
      for (const auto& d : entry.dims) known += (known.empty() ? "" : ", ") + d.name;
      spec.node->require(at != entry.dims.end(), "dim_weights", "'" + dim + "' is not a dimension of this module (" + known + ")");
      weights_[weights_.size() - entry.dims.size() + (at - entry.dims.begin())] = entry.weight * share;
    }
    entries_.push_back(std::move(entry));
  }
  for (std::size_t i = 0; i < names_.size(); ++i)
    for (std::size_t j = i + 1; j < names_.size(); ++j)
      VECRL_CHECK(names_[i] != names_[j], "config key 'rewards': dimension '", names_[i],
                  "' appears twice; give the modules distinct `name`s");
}

core::RewardMatrix RewardSet::score(const core::Rollouts& rollouts, bool token_counts) {
  ScoreBatch batch{rollouts, {}, answers_per_rollout(), options_.workers, token_counts, &models_};
  for (const auto& response : rollouts.responses) batch.answers.push_back(split_answers(response, options_.split));
  std::vector<core::RewardMatrix> parts;
  core::RewardMatrix earlier;
  for (const auto& entry : entries_) {
    std::vector<std::string> names;
    for (const auto& d : entry.dims) names.push_back(entry.name + "/" + d.name);
    core::RewardMatrix part;
    try {
      part = score_with_deadline(entry.module, batch, entry.deadline_s, entry.name);
      VECRL_CHECK(part.values.dim() == 3 && part.values.size(0) == rollouts.size() &&
                      part.values.size(1) == batch.answers_per_rollout &&
                      part.values.size(2) == static_cast<int64_t>(names.size()) &&
                      part.valid.sizes() == part.values.sizes(),
                  "reward module '", entry.name, "' returned values of shape ", part.values.sizes(), " for ",
                  rollouts.size(), " rollouts, ", batch.answers_per_rollout, " answers and ", names.size(),
                  " dimensions");
      part.names = names;
      for (const auto& transform : entry.transforms) transform->apply(part, {rollouts, entry.dims, earlier});
      // A transform may produce non-finite values (log of 0, overflow): those are failures, not data.
      part.valid.logical_and_(part.values.isfinite());
      part.values.nan_to_num_(0.0, 0.0, 0.0);
    } catch (const std::exception& e) {
      ++failures_;
      spdlog::warn("reward module '{}' failed on this batch; its dimensions are marked not-valid: {}", entry.name,
                   e.what());
      part = core::RewardMatrix::zeros(rollouts.size(), batch.answers_per_rollout, names);
      part.valid.fill_(false);
    }
    parts.push_back(part);
    earlier = core::RewardMatrix::concat(parts);
  }
  return earlier;
}

bool RewardSet::needs_reference() const {
  for (const auto& entry : entries_)
    if (entry.module->needs_reference()) return true;
  return false;
}

std::vector<AnswerLikelihoodTerm> RewardSet::loss_terms(const core::Rollouts& rollouts) const {
  std::vector<AnswerLikelihoodTerm> terms;
  ScoreBatch batch{rollouts, {}, answers_per_rollout(), options_.workers, true, &models_};
  for (const auto& response : rollouts.responses) batch.answers.push_back(split_answers(response, options_.split));
  std::size_t first_dim = 0;
  for (const auto& entry : entries_) {
    const std::size_t dims = entry.dims.size();
    if (entry.module->has_loss_term()) {
      std::vector<double> dim_weights(weights_.begin() + first_dim, weights_.begin() + first_dim + dims);
      terms.push_back(entry.module->loss_term(batch, dim_weights));
      terms.back().name = entry.name;
    }
    first_dim += dims;
  }
  return terms;
}

int64_t RewardSet::failures() const {
  int64_t total = failures_;
  for (const auto& entry : entries_) total += entry.module->failed_texts();
  return total;
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
  // The weighted total over answers whose weighted dimensions are all valid (a failed module
  // does not pull the score down as if it had scored 0).
  const auto weighted = core::weighted_total(rewards, weights);
  auto total = weighted.values.masked_select(weighted.valid);
  const bool any = total.numel() > 0;
  out["critic/score/mean"] = any ? total.mean().item<double>() : NAN;
  out["critic/score/max"] = any ? total.max().item<double>() : NAN;
  out["critic/score/min"] = any ? total.min().item<double>() : NAN;
  return out;
}

}  // namespace vecrl::rewards
