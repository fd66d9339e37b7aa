#include "models/logprobs.h"

#include <torch/torch.h>

#include "core/error.h"
#include "models/generation.h"

namespace vecrl::models {

ResponseScores score_responses(CausalLM& model, const at::Tensor& prompt_ids, const at::Tensor& prompt_mask,
                               const at::Tensor& response_ids, double temperature, bool with_entropy,
                               int64_t chunk_tokens) {
  VECRL_CHECK(prompt_ids.dim() == 2 && prompt_mask.sizes() == prompt_ids.sizes(), "score_responses: prompt_ids ",
              prompt_ids.sizes(), " and prompt_mask ", prompt_mask.sizes(), " must be equal [N, Lp]");
  VECRL_CHECK(response_ids.dim() == 2 && response_ids.size(0) == prompt_ids.size(0), "score_responses: response_ids ",
              response_ids.sizes(), " must be [", prompt_ids.size(0), ", T]");
  VECRL_CHECK(temperature > 0, "score_responses: temperature must be > 0, got ", temperature);
  const int64_t N = prompt_ids.size(0), Lp = prompt_ids.size(1), T = response_ids.size(1);
  auto prompt_len = prompt_mask.to(torch::kLong).sum(1, /*keepdim=*/true);                  // [N, 1]
  auto response_pos = prompt_len + torch::arange(T, prompt_len.options()).unsqueeze(0);     // [N, T]
  auto tokens = torch::cat({prompt_ids, response_ids}, 1);                                   // [N, Lp+T]
  auto positions = torch::cat({positions_from_mask(prompt_mask), response_pos}, 1);
  auto key_valid = torch::cat({prompt_mask, torch::ones({N, T}, prompt_mask.options())}, 1);
  auto hidden = model->hidden({tokens, positions, key_valid});  // [N, Lp+T, D]
  auto predicting = hidden.narrow(1, Lp - 1, T);                // states that predict response tokens

  // Chunk along T so that at most ~chunk_tokens rows of [*, V] logits are alive at a time.
  const int64_t step = std::max<int64_t>(1, chunk_tokens / std::max<int64_t>(N, 1));
  std::vector<at::Tensor> logp_parts, entropy_parts;
  for (int64_t t0 = 0; t0 < T; t0 += step) {
    const int64_t len = std::min(step, T - t0);
    auto logits = model->logits(predicting.narrow(1, t0, len)).to(torch::kFloat) / temperature;  // [N, len, V]
    auto logp = torch::log_softmax(logits, -1);
    logp_parts.push_back(logp.gather(-1, response_ids.narrow(1, t0, len).unsqueeze(-1)).squeeze(-1));
    if (with_entropy) entropy_parts.push_back(-(logp.exp() * logp).sum(-1));
  }
  ResponseScores out;
  out.logprobs = T > 0 ? torch::cat(logp_parts, 1) : torch::zeros({N, 0}, torch::kFloat);
  if (with_entropy) out.entropy = T > 0 ? torch::cat(entropy_parts, 1) : torch::zeros({N, 0}, torch::kFloat);
  return out;
}

}  // namespace vecrl::models
