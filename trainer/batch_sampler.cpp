#include "trainer/batch_sampler.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>

#include "algorithms/advantage.h"
#include "core/seeds.h"
#include "distributed/communicator.h"
#include "models/generation.h"
#include "models/tokenizer.h"
#include "rewards/reward_set.h"
#include "trainer/prompt_dataset.h"
#include "trainer/rollout_generator.h"

namespace vecrl::trainer {

SampledBatch select_groups(const SampledBatch& batch, const std::vector<int64_t>& groups) {
  const auto rows = core::Rollouts::group_rows(groups, batch.rollouts.group_size);
  SampledBatch out;
  out.rollouts = batch.rollouts.select_groups(groups);
  out.rewards = batch.rewards.select_rows(rows);
  out.top_up = batch.top_up.index_select(0, rows);
  for (auto g : groups) out.group_keys.push_back(batch.group_keys[static_cast<std::size_t>(g)]);
  return out;
}

namespace {

SampledBatch concat(const std::vector<SampledBatch>& parts, int64_t pad_id) {
  std::vector<core::Rollouts> rollouts;
  std::vector<core::RewardMatrix> rewards;
  std::vector<at::Tensor> top_up;
  SampledBatch out;
  for (const auto& part : parts) {
    rollouts.push_back(part.rollouts);
    rewards.push_back(part.rewards);
    top_up.push_back(part.top_up);
    out.group_keys.insert(out.group_keys.end(), part.group_keys.begin(), part.group_keys.end());
  }
  out.rollouts = core::Rollouts::concat(rollouts, pad_id);
  out.rewards = core::RewardMatrix::stack_rows(rewards);
  out.top_up = at::cat(top_up);
  return out;
}

}  // namespace

BatchSampler::BatchSampler(const RunConfig& config, PromptDataset& data, const RolloutGenerator& generator,
                           rewards::RewardSet& rewards, const algorithms::AdvantageEstimator& estimator,
                           distributed::Communicator& comm, const models::Tokenizer& tokenizer)
    : config_(config),
      data_(data),
      generator_(generator),
      rewards_(rewards),
      estimator_(estimator),
      comm_(comm),
      tokenizer_(tokenizer),
      local_prompts_(config.rollout.prompts_per_step / comm.world_size()) {}

double BatchSampler::global_sum(double local) const {
  auto t = at::tensor({local}, at::kDouble);
  comm_.all_reduce_sum(t);
  return t.item<double>();
}

SampledBatch BatchSampler::sample_round(int64_t step, int64_t round, double& reward_seconds) {
  const auto& c = config_;
  const int64_t P = local_prompts_;
  // All ranks draw the same global batch and keep their slice; seeds go per global prompt index,
  // so results do not depend on the world size.
  const auto global = data_.next_batch(c.rollout.prompts_per_step);
  const int64_t first = comm_.rank() * P;
  const std::vector<nlohmann::json> batch(global.begin() + first, global.begin() + first + P);
  SampledBatch out;
  for (int64_t p = 0; p < P; ++p) out.group_keys.push_back(core::rollout_prompt_seed(c.run.seed, step, round, first + p));
  auto options = data_.generation_options(c.rollout.sampler(), c.rollout.max_new_tokens, tokenizer_);
  options.prompt_seeds = out.group_keys;
  out.rollouts = generator_.generate(data_, batch, c.data.add_bos, c.rollout.group_size, options);
  const auto start = std::chrono::steady_clock::now();
  out.rewards = rewards_.score(out.rollouts);
  reward_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out.top_up = at::zeros({out.rollouts.size()}, at::kBool);
  return out;
}

std::vector<bool> BatchSampler::groups_with_signal(const SampledBatch& batch) const {
  const algorithms::AdvantageInput input{batch.rewards, rewards_.weights(), batch.rollouts.group_size,
                                         batch.rollouts.response_mask, {}, {}, batch.group_keys};
  auto signal = estimator_.group_has_signal(input).to(at::kCPU).contiguous();
  std::vector<bool> out;
  for (int64_t g = 0; g < signal.numel(); ++g) out.push_back(signal[g].item<bool>());
  return out;
}

SampledBatch BatchSampler::sample(int64_t step, core::MetricMap& m) {
  double reward_seconds = 0;
  if (!config_.rollout.dynamic_sampling) {
    auto batch = sample_round(step, 0, reward_seconds);
    m["timing_s/reward"] = reward_seconds;
    return batch;
  }
  const int64_t P = local_prompts_, wanted = P * comm_.world_size();
  std::vector<SampledBatch> kept, spare;
  int64_t kept_groups = 0, round = 0;
  // Every rank runs the same number of rounds (collectives must match): until every rank is full.
  auto all_full = [&] { return global_sum(static_cast<double>(kept_groups)) >= static_cast<double>(wanted); };
  for (; round < config_.rollout.max_sampling_rounds && (round == 0 || !all_full()); ++round) {
    auto batch = sample_round(step, round, reward_seconds);
    const auto signal = groups_with_signal(batch);
    std::vector<int64_t> good, flat;
    for (int64_t g = 0; g < P; ++g) (signal[static_cast<std::size_t>(g)] ? good : flat).push_back(g);
    good.resize(static_cast<std::size_t>(std::clamp<int64_t>(P - kept_groups, 0, static_cast<int64_t>(good.size()))));
    if (!good.empty()) kept.push_back(select_groups(batch, good));
    if (!flat.empty()) spare.push_back(select_groups(batch, flat));
    kept_groups += static_cast<int64_t>(good.size());
  }
  m["timing_s/reward"] = reward_seconds;
  m["sampling/rounds"] = static_cast<double>(round);
  m["sampling/kept_group_frac"] = global_sum(static_cast<double>(kept_groups)) / static_cast<double>(wanted);
  // Fill up with groups without signal so every step has the same shape; they are marked top-up.
  for (std::size_t i = 0; i < spare.size() && kept_groups < P; ++i) {
    std::vector<int64_t> groups(static_cast<std::size_t>(std::min(spare[i].rollouts.num_groups(), P - kept_groups)));
    for (std::size_t g = 0; g < groups.size(); ++g) groups[g] = static_cast<int64_t>(g);
    auto filler = select_groups(spare[i], groups);
    filler.top_up.fill_(true);
    kept.push_back(std::move(filler));
    kept_groups += static_cast<int64_t>(groups.size());
  }
  return concat(kept, tokenizer_.eos_id());
}

}  // namespace vecrl::trainer
