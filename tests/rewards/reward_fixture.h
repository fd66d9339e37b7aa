#pragma once
// Small builders shared by the reward tests: rollouts from texts, reward specs from YAML.
#include <ATen/ATen.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/batch.h"
#include "core/config.h"

namespace vecrl::testing {

inline core::Rollouts rollouts(const std::vector<std::string>& responses, const std::vector<bool>& truncated = {},
                               const std::vector<nlohmann::json>& samples = {}) {
  core::Rollouts r;
  const auto n = static_cast<int64_t>(responses.size());
  r.group_size = n;
  r.responses = responses;
  r.prompts = std::vector<std::string>(n, "p");
  r.samples = samples.empty() ? std::vector<nlohmann::json>(n, nlohmann::json::object()) : samples;
  r.prompt_ids = at::ones({n, 1}, at::kLong);
  r.prompt_mask = at::ones({n, 1}, at::kBool);
  r.response_ids = at::ones({n, 2}, at::kLong);
  r.response_mask = at::ones({n, 2}, at::kBool);
  r.behaviour_logprobs = at::zeros({n, 2});
  r.truncated = at::zeros({n}, at::kBool);
  for (std::size_t i = 0; i < truncated.size(); ++i) r.truncated[i] = static_cast<bool>(truncated[i]);
  return r;
}

// Sets the response token counts (response_mask) of each rollout.
inline core::Rollouts with_lengths(core::Rollouts r, const std::vector<int64_t>& lengths) {
  const auto n = static_cast<int64_t>(lengths.size());
  const int64_t t = *std::max_element(lengths.begin(), lengths.end());
  r.response_ids = at::ones({n, t}, at::kLong);
  r.behaviour_logprobs = at::zeros({n, t});
  r.response_mask = at::arange(t).unsqueeze(0) < at::tensor(lengths).unsqueeze(1);
  return r;
}

inline std::vector<core::ComponentSpec> specs(const std::string& yaml) {
  core::ConfigNode root(YAML::Load(yaml), "test.yaml");
  std::vector<core::ComponentSpec> out;
  root.component_list("rewards", out);
  return out;
}

inline std::vector<float> column(const core::RewardMatrix& m, int64_t k) {
  auto c = m.values.select(2, k).select(1, 0).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

}  // namespace vecrl::testing
