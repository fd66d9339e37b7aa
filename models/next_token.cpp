#include "models/next_token.h"

#include <torch/types.h>

#include "core/error.h"

namespace vecrl::models {

at::Tensor next_token_logprobs(CausalLM& model, const std::vector<int64_t>& tokens, int64_t first) {
  const auto length = static_cast<int64_t>(tokens.size());
  VECRL_CHECK(length > 0 && first >= 0 && first < length, "next_token_logprobs: first = ", first, " for ", length,
              " tokens");
  torch::NoGradGuard no_grad;
  const auto device = model->parameters().front().device();
  ForwardInput input;
  input.tokens = torch::tensor(tokens).unsqueeze(0).to(device);
  input.positions = torch::arange(length, torch::kLong).unsqueeze(0).to(device);
  input.key_valid = torch::ones({1, length}, torch::kBool).to(device);
  auto hidden = model->hidden(input).squeeze(0).narrow(0, first, length - first);  // [R, D]
  return torch::log_softmax(model->logits(hidden).to(torch::kFloat), -1).to(torch::kCPU);
}

}  // namespace vecrl::models
