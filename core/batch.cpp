#include "core/batch.h"

#include <ATen/ATen.h>

#include "core/error.h"

namespace vecrl::core {

void Rollouts::check() const {
  const int64_t n = size();
  VECRL_CHECK(group_size >= 1, "Rollouts: group_size must be >= 1, got ", group_size);
  VECRL_CHECK(n % group_size == 0, "Rollouts: ", n, " rollouts do not split into groups of ", group_size);
  VECRL_CHECK(static_cast<int64_t>(prompts.size()) == n && static_cast<int64_t>(samples.size()) == n,
              "Rollouts: ", n, " responses but ", prompts.size(), " prompts and ", samples.size(), " samples");
  VECRL_CHECK(prompt_ids.dim() == 2 && prompt_ids.size(0) == n, "Rollouts: prompt_ids ", prompt_ids.sizes(),
              ", expected [", n, ", Lp]");
  VECRL_CHECK(prompt_mask.sizes() == prompt_ids.sizes(), "Rollouts: prompt_mask ", prompt_mask.sizes(),
              " != prompt_ids ", prompt_ids.sizes());
  VECRL_CHECK(response_ids.dim() == 2 && response_ids.size(0) == n, "Rollouts: response_ids ",
              response_ids.sizes(), ", expected [", n, ", T]");
  VECRL_CHECK(response_mask.sizes() == response_ids.sizes() && behaviour_logprobs.sizes() == response_ids.sizes(),
              "Rollouts: response_mask ", response_mask.sizes(), " and behaviour_logprobs ",
              behaviour_logprobs.sizes(), " must equal response_ids ", response_ids.sizes());
  VECRL_CHECK(truncated.dim() == 1 && truncated.size(0) == n, "Rollouts: truncated ", truncated.sizes());
  for (const auto* stat : {&tool_calls, &tool_failures, &turns})
    VECRL_CHECK(stat->defined() == tool_calls.defined() && (!stat->defined() || (stat->dim() == 1 && stat->size(0) == n)),
                "Rollouts: agent statistics must all be [", n, "] or all absent");
}

namespace {

// Pads [n, L] to [n, width] with `value`, on the left or the right.
at::Tensor pad_to(const at::Tensor& t, int64_t width, bool left, double value) {
  const int64_t missing = width - t.size(1);
  if (missing == 0) return t;
  auto pad = at::full({t.size(0), missing}, value, t.options());
  return left ? at::cat({pad, t}, 1) : at::cat({t, pad}, 1);
}

}  // namespace

at::Tensor Rollouts::group_rows(const std::vector<int64_t>& groups, int64_t group_size) {
  std::vector<int64_t> rows;
  for (auto g : groups)
    for (int64_t j = 0; j < group_size; ++j) rows.push_back(g * group_size + j);
  return at::tensor(rows, at::kLong);
}

Rollouts Rollouts::select_groups(const std::vector<int64_t>& groups) const {
  for (auto g : groups) VECRL_CHECK(g >= 0 && g < num_groups(), "Rollouts: group ", g, " of ", num_groups());
  auto rows = group_rows(groups, group_size);
  Rollouts out;
  out.group_size = group_size;
  out.prompt_ids = prompt_ids.index_select(0, rows);
  out.prompt_mask = prompt_mask.index_select(0, rows);
  out.response_ids = response_ids.index_select(0, rows);
  out.response_mask = response_mask.index_select(0, rows);
  out.behaviour_logprobs = behaviour_logprobs.index_select(0, rows);
  out.truncated = truncated.index_select(0, rows);
  if (has_agent_stats()) {
    out.tool_calls = tool_calls.index_select(0, rows);
    out.tool_failures = tool_failures.index_select(0, rows);
    out.turns = turns.index_select(0, rows);
  }
  auto r = rows.accessor<int64_t, 1>();
  for (int64_t i = 0; i < rows.size(0); ++i) {
    out.prompts.push_back(prompts[r[i]]);
    out.responses.push_back(responses[r[i]]);
    out.samples.push_back(samples[r[i]]);
  }
  return out;
}

Rollouts Rollouts::concat(const std::vector<Rollouts>& parts, int64_t pad_id) {
  VECRL_CHECK(!parts.empty(), "Rollouts::concat: nothing to join");
  int64_t lp = 0, t = 0;
  for (const auto& p : parts) {
    VECRL_CHECK(p.group_size == parts[0].group_size, "Rollouts::concat: group sizes ", p.group_size, " and ",
                parts[0].group_size);
    lp = std::max(lp, p.prompt_ids.size(1));
    t = std::max(t, p.response_ids.size(1));
  }
  Rollouts out;
  out.group_size = parts[0].group_size;
  std::vector<at::Tensor> pi, pm, ri, rm, bl, tr, calls, failures, turns;
  for (const auto& p : parts) {
    VECRL_CHECK(p.has_agent_stats() == parts[0].has_agent_stats(),
                "Rollouts::concat: some parts have agent-loop statistics and some do not");
    if (p.has_agent_stats()) {
      calls.push_back(p.tool_calls);
      failures.push_back(p.tool_failures);
      turns.push_back(p.turns);
    }
    pi.push_back(pad_to(p.prompt_ids, lp, true, static_cast<double>(pad_id)));
    pm.push_back(pad_to(p.prompt_mask, lp, true, 0));
    ri.push_back(pad_to(p.response_ids, t, false, static_cast<double>(pad_id)));
    rm.push_back(pad_to(p.response_mask, t, false, 0));
    bl.push_back(pad_to(p.behaviour_logprobs, t, false, 0));
    tr.push_back(p.truncated);
    out.prompts.insert(out.prompts.end(), p.prompts.begin(), p.prompts.end());
    out.responses.insert(out.responses.end(), p.responses.begin(), p.responses.end());
    out.samples.insert(out.samples.end(), p.samples.begin(), p.samples.end());
  }
  out.prompt_ids = at::cat(pi);
  out.prompt_mask = at::cat(pm);
  out.response_ids = at::cat(ri);
  out.response_mask = at::cat(rm);
  out.behaviour_logprobs = at::cat(bl);
  out.truncated = at::cat(tr);
  if (!calls.empty()) {
    out.tool_calls = at::cat(calls);
    out.tool_failures = at::cat(failures);
    out.turns = at::cat(turns);
  }
  out.check();
  return out;
}

RewardMatrix RewardMatrix::select_rows(const at::Tensor& rows) const {
  RewardMatrix out;
  out.names = names;
  out.values = values.index_select(0, rows);
  out.valid = valid.index_select(0, rows);
  return out;
}

RewardMatrix RewardMatrix::stack_rows(const std::vector<RewardMatrix>& parts) {
  VECRL_CHECK(!parts.empty(), "RewardMatrix::stack_rows: nothing to stack");
  std::vector<at::Tensor> values, valid;
  for (const auto& p : parts) {
    VECRL_CHECK(p.names == parts[0].names, "RewardMatrix::stack_rows: different dimensions");
    values.push_back(p.values);
    valid.push_back(p.valid);
  }
  RewardMatrix out;
  out.names = parts[0].names;
  out.values = at::cat(values);
  out.valid = at::cat(valid);
  return out;
}

RewardMatrix RewardMatrix::zeros(int64_t n, int64_t m, std::vector<std::string> names) {
  RewardMatrix r;
  const auto k = static_cast<int64_t>(names.size());
  r.names = std::move(names);
  r.values = at::zeros({n, m, k}, at::kFloat);
  r.valid = at::ones({n, m, k}, at::kBool);
  return r;
}

RewardMatrix RewardMatrix::concat(const std::vector<RewardMatrix>& parts) {
  VECRL_CHECK(!parts.empty(), "RewardMatrix::concat: nothing to concatenate");
  RewardMatrix out;
  std::vector<at::Tensor> values, valid;
  for (const auto& p : parts) {
    p.check();
    for (const auto& name : p.names) {
      for (const auto& existing : out.names)
        VECRL_CHECK(existing != name, "reward dimension '", name, "' is produced twice; give modules distinct names");
      out.names.push_back(name);
    }
    values.push_back(p.values);
    valid.push_back(p.valid);
  }
  out.values = at::cat(values, 2);
  out.valid = at::cat(valid, 2);
  return out;
}

int64_t RewardMatrix::index_of(const std::string& name) const {
  std::string all;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<int64_t>(i);
    all += (all.empty() ? "" : ", ") + names[i];
  }
  throw Error(str_cat("no reward dimension '", name, "'; dimensions: ", all));
}

void RewardMatrix::check() const {
  VECRL_CHECK(values.defined() && values.dim() == 3, "RewardMatrix: values must be [N, M, K], got ",
              values.defined() ? values.sizes() : at::IntArrayRef{});
  VECRL_CHECK(valid.sizes() == values.sizes(), "RewardMatrix: valid ", valid.sizes(), " != values ",
              values.sizes());
  VECRL_CHECK(values.size(2) == static_cast<int64_t>(names.size()), "RewardMatrix: ", names.size(),
              " names for K = ", values.size(2));
}

WeightedTotal weighted_total(const RewardMatrix& rewards, const std::vector<double>& weights) {
  VECRL_CHECK(static_cast<int64_t>(weights.size()) == rewards.dims(), "weighted_total: ", weights.size(),
              " weights for ", rewards.dims(), " reward dimensions");
  auto w = at::tensor(weights, at::kDouble);                        // [K]
  auto used = (w != 0).view({1, 1, -1});                            // [1, 1, K]
  auto counted = rewards.valid.logical_and(used);                   // [N, M, K]
  auto values = at::where(counted, rewards.values.to(at::kDouble), at::zeros({}, at::kDouble));
  WeightedTotal total;
  total.valid = rewards.valid.logical_or(used.logical_not()).all(2);  // [N, M]
  total.values = at::where(total.valid, (values * w).sum(2), at::zeros({}, at::kDouble));
  return total;
}

double Advantages::weight(int64_t channel) const {
  return channel_weights.empty() ? 1.0 : channel_weights.at(static_cast<std::size_t>(channel));
}

at::Tensor Advantages::per_token(int64_t channel, const at::Tensor& response_mask) const {
  VECRL_CHECK(channel >= 0 && channel < values.size(0), "Advantages: channel ", channel, " of ", values.size(0));
  const auto mask = response_mask.to(at::kFloat);
  if (token_values.defined()) {
    VECRL_CHECK(token_values.size(1) == mask.size(0) && token_values.size(2) == mask.size(1),
                "Advantages: token_values ", token_values.sizes(), " do not match the response mask ", mask.sizes());
    return token_values[channel] * mask;
  }
  return values[channel].unsqueeze(1) * mask;
}

at::Tensor Advantages::loss_mask(int64_t channel, const at::Tensor& response_mask) const {
  VECRL_CHECK(channel >= 0 && channel < values.size(0), "Advantages: channel ", channel, " of ", values.size(0));
  if (!rollout_mask.defined()) return response_mask;
  return response_mask.logical_and(rollout_mask[channel].unsqueeze(1));
}

Advantages Advantages::single(const at::Tensor& per_rollout) {
  Advantages a;
  a.channels = {"primary"};
  a.values = per_rollout.to(at::kFloat).reshape({1, -1});
  return a;
}

}  // namespace vecrl::core
