#include "trainer/step_metrics.h"

#include <ATen/ATen.h>
#include <sys/resource.h>

#include <algorithm>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "algorithms/advantage.h"
#include "distributed/communicator.h"
#include "rewards/reward_set.h"
#include "trainer/rollout_generator.h"

namespace vecrl::trainer {

namespace {

void add_reward_metrics(const StepContext& ctx, distributed::Communicator& comm, core::MetricMap& m) {
  core::RewardMatrix global{ctx.rewards.names, comm.all_gather_rows(ctx.rewards.values),
                            comm.all_gather_rows(ctx.rewards.valid)};
  const auto rewards = rewards::RewardSet::metrics(global, ctx.weights);
  m.insert(rewards.begin(), rewards.end());
  const auto total = core::weighted_total(global, ctx.weights);
  const int64_t G = ctx.rollouts.group_size;
  auto varies = algorithms::varies_in_group(total.values.select(1, 0).reshape({-1, G}),
                                            total.valid.select(1, 0).reshape({-1, G}));
  m["frac_reward_zero_std"] = varies.logical_not().to(at::kDouble).mean().item<double>();
  auto global_adv = comm.all_gather_rows(ctx.advantages.values.t().contiguous()).t();  // [C, N_global]
  for (int64_t ch = 0; ch < ctx.advantages.num_channels(); ++ch) {
    const std::string prefix =
        ch == 0 ? "critic/advantages/" : "critic/advantages/" + ctx.advantages.channels[ch] + "/";
    m[prefix + "mean"] = global_adv[ch].mean().item<double>();
    m[prefix + "max"] = global_adv[ch].max().item<double>();
    m[prefix + "min"] = global_adv[ch].min().item<double>();
  }
}

// The KL of the penalty in the reward, token mean per rollout then mean over rollouts (verl's
// actor/reward_kl_penalty), and its coefficient.
void add_reward_kl_metrics(const StepContext& ctx, distributed::Communicator& comm, double coef, core::MetricMap& m) {
  if (!ctx.token_penalty.defined()) return;
  auto mask = ctx.rollouts.response_mask.to(at::kDouble);
  auto per_rollout = (ctx.token_penalty.to(at::kDouble) * mask).sum(1) / mask.sum(1).clamp_min(1) / coef;
  m["actor/reward_kl_penalty"] = comm.all_gather_rows(per_rollout).mean().item<double>();
  m["actor/reward_kl_penalty_coeff"] = coef;
}

void add_response_metrics(const StepContext& ctx, distributed::Communicator& comm, core::MetricMap& m) {
  const auto& r = ctx.rollouts;
  auto lengths = comm.all_gather_rows(r.response_mask.sum(1).to(at::kDouble));
  m["response_length/mean"] = lengths.mean().item<double>();
  m["response_length/max"] = lengths.max().item<double>();
  m["response_length/min"] = lengths.min().item<double>();
  m["response_length/clip_ratio"] = comm.all_gather_rows(r.truncated.to(at::kDouble)).mean().item<double>();
  m["perf/total_response_tokens"] = lengths.sum().item<double>();
  if (r.has_agent_stats()) {
    const auto tools = agent_metrics(comm.all_gather_rows(r.tool_calls), comm.all_gather_rows(r.tool_failures),
                                     comm.all_gather_rows(r.turns));
    m.insert(tools.begin(), tools.end());
  }
  auto diff = (r.behaviour_logprobs - ctx.old_logprobs).abs().masked_fill(r.response_mask.logical_not(), 0);
  auto stats = comm.all_gather_rows(
      at::stack({diff.sum(1), diff.amax(1), r.response_mask.sum(1).to(diff.dtype())}, 1).to(at::kDouble));  // [N, 3]
  m["sampling/logp_diff/mean"] = stats.select(1, 0).sum().item<double>() / std::max(1.0, stats.select(1, 2).sum().item<double>());
  m["sampling/logp_diff/max"] = stats.select(1, 1).max().item<double>();
}

// "1:02:03" / "2:03" for an ETA in seconds.
std::string clock_time(double seconds) {
  const auto s = static_cast<int64_t>(std::llround(std::max(0.0, seconds)));
  std::ostringstream os;
  if (s >= 3600) os << s / 3600 << ":" << std::setw(2) << std::setfill('0') << (s / 60) % 60;
  else os << s / 60;
  os << ":" << std::setw(2) << std::setfill('0') << s % 60;
  return os.str();
}

}  // namespace

void add_batch_metrics(StepContext& ctx, distributed::Communicator& comm, int64_t module_failures,
                       double kl_in_reward_coef) {
  auto& m = ctx.metrics;
  add_reward_metrics(ctx, comm, m);
  add_reward_kl_metrics(ctx, comm, kl_in_reward_coef, m);
  add_response_metrics(ctx, comm, m);
  auto failures = at::tensor({static_cast<double>(module_failures)}, at::kDouble);
  comm.all_reduce_sum(failures);
  m["rewards/module_failures"] = failures.item<double>();
}

void add_timing_metrics(core::MetricMap& m, distributed::Communicator& comm, double step_seconds) {
  m["timing_s/step"] = step_seconds;
  std::vector<std::string> keys;
  std::vector<double> values;
  for (const auto& [k, v] : m)
    if (k.rfind("timing_s/", 0) == 0) {
      keys.push_back(k);
      values.push_back(v);
    }
  auto slowest = at::tensor(values, at::kDouble);  // the slowest rank sets the pace
  comm.all_reduce_max(slowest);
  for (std::size_t i = 0; i < keys.size(); ++i) m[keys[i]] = slowest[static_cast<int64_t>(i)].item<double>();
  m["perf/throughput"] =
      m["perf/total_response_tokens"] / m["timing_s/step"] / static_cast<double>(comm.world_size());
  rusage usage{};  // Linux reports ru_maxrss in KiB
  getrusage(RUSAGE_SELF, &usage);
  auto peak = at::tensor({static_cast<double>(usage.ru_maxrss) / (1024.0 * 1024.0)}, at::kDouble);
  comm.all_reduce_max(peak);
  m["perf/max_memory_gb"] = peak.item<double>();
}

void append_samples(const std::string& path, const StepContext& ctx, int64_t count) {
  const auto& r = ctx.rollouts;
  std::ofstream out(path, std::ios::app);
  for (int64_t i = 0; i < std::min(count, r.size()); ++i) {
    nlohmann::json line = {{"step", ctx.step}, {"rollout", i}, {"prompt", r.prompts[i]}, {"response", r.responses[i]},
                           {"truncated", r.truncated[i].item<bool>()},
                           {"advantage", ctx.advantages.values[0][i].item<double>()}};
    for (int64_t k = 0; k < ctx.rewards.dims(); ++k)
      line["rewards"][ctx.rewards.names[k]] = ctx.rewards.valid[i][0][k].item<bool>()
                                                   ? nlohmann::json(ctx.rewards.values[i][0][k].item<double>())
                                                   : nullptr;
    out << line.dump() << '\n';
  }
}

std::string format_line(int64_t step, int64_t total, const core::MetricMap& m, const std::vector<std::string>& dims,
                        double seconds_per_step) {
  std::ostringstream os;
  const int width = 12;
  const auto filled = static_cast<int>(width * step / std::max<int64_t>(1, total));
  os << "[" << std::string(filled, '#') << std::string(width - filled, '.') << "] ";
  os << std::fixed << "step " << std::setw(3) << step << "/" << total;
  for (const auto& d : dims) os << " | " << d << " " << std::setprecision(3) << m.at("rewards/" + d + "/mean");
  os << " | total " << std::setprecision(3) << m.at("critic/score/mean");
  auto kl = m.find("actor/kl_loss");
  if (kl == m.end()) kl = m.find("actor/reward_kl_penalty");
  os << " | kl " << (kl != m.end() ? (std::ostringstream() << std::setprecision(4) << std::fixed << kl->second).str() : "-");
  os << " | len " << std::setprecision(1) << m.at("response_length/mean");
  os << " | " << std::setprecision(0) << m.at("perf/throughput") << " tok/s";
  os << " | " << std::setprecision(2) << seconds_per_step << " s/step, ETA "
     << clock_time(seconds_per_step * static_cast<double>(total - step));
  return os.str();
}

}  // namespace vecrl::trainer
