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

at::Tensor Advantages::per_token(int64_t channel, const at::Tensor& response_mask) const {
  VECRL_CHECK(channel >= 0 && channel < values.size(0), "Advantages: channel ", channel, " of ", values.size(0));
  return values[channel].unsqueeze(1) * response_mask.to(at::kFloat);
}

}  // namespace vecrl::core
