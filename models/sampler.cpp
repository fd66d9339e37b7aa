#include "models/sampler.h"

#include <torch/torch.h>

#include "core/error.h"

namespace vecrl::models {

SampledTokens sample_tokens(const at::Tensor& logits, const SamplerOptions& options, at::Generator& generator) {
  VECRL_CHECK(options.temperature >= 0, "temperature must be >= 0, got ", options.temperature);
  VECRL_CHECK(options.top_p > 0 && options.top_p <= 1, "top_p must be in (0, 1], got ", options.top_p);
  VECRL_CHECK(options.top_k >= 0, "top_k must be >= 0, got ", options.top_k);
  VECRL_CHECK(options.min_p >= 0 && options.min_p < 1, "min_p must be in [0, 1), got ", options.min_p);
  const auto logits_f = logits.to(torch::kFloat);
  if (options.temperature == 0) {
    auto logp = torch::log_softmax(logits_f, -1);
    auto tokens = logits_f.argmax(-1);
    return {tokens, logp.gather(-1, tokens.unsqueeze(-1)).squeeze(-1)};
  }
  auto logp = torch::log_softmax(logits_f / options.temperature, -1);  // [N, V]
  auto probs = logp.exp();
  if (options.top_k > 0 && options.top_k < probs.size(-1)) {
    auto kth = std::get<0>(probs.topk(options.top_k, -1)).narrow(-1, options.top_k - 1, 1);  // [N, 1]
    probs = probs.masked_fill(probs < kth, 0.0);
  }
  if (options.top_p < 1.0) {
    auto sorted = probs.sort(-1, /*descending=*/true);
    auto sorted_probs = std::get<0>(sorted), order = std::get<1>(sorted);
    // Drop a token once the mass before it already reaches top_p (the top token always stays).
    auto mass_before = sorted_probs.cumsum(-1) - sorted_probs;
    auto kept = sorted_probs.masked_fill(mass_before >= options.top_p, 0.0);
    probs = torch::zeros_like(probs).scatter(-1, order, kept);
  }
  if (options.min_p > 0) {
    auto top = std::get<0>(probs.max(-1, /*keepdim=*/true));
    probs = probs.masked_fill(probs < options.min_p * top, 0.0);
  }
  auto tokens = torch::multinomial(probs, 1, /*replacement=*/false, generator).squeeze(-1);
  return {tokens, logp.gather(-1, tokens.unsqueeze(-1)).squeeze(-1)};
}

}  // namespace vecrl::models
