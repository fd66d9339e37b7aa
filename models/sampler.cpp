#include "models/sampler.h"

#include <torch/torch.h>

#include "core/error.h"

namespace vecrl::models {

namespace {

struct Distribution {
  at::Tensor logp;   // [N, V] tempered, untruncated log-probs (plain softmax when greedy)
  at::Tensor probs;  // [N, V] the truncated distribution to draw from (undefined when greedy)
};

Distribution distribution(const at::Tensor& logits, const SamplerOptions& options) {
  VECRL_CHECK(options.temperature >= 0, "temperature must be >= 0, got ", options.temperature);
  VECRL_CHECK(options.top_p > 0 && options.top_p <= 1, "top_p must be in (0, 1], got ", options.top_p);
  VECRL_CHECK(options.top_k >= 0, "top_k must be >= 0, got ", options.top_k);
  VECRL_CHECK(options.min_p >= 0 && options.min_p < 1, "min_p must be in [0, 1), got ", options.min_p);
  const auto logits_f = logits.to(torch::kFloat);
  if (options.temperature == 0) return {torch::log_softmax(logits_f, -1), at::Tensor()};
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
  return {logp, probs};
}

// One draw per row. With replacement is the same distribution for one draw, and costs one uniform
// number per row (inverse CDF) where without replacement draws one exponential per vocabulary entry.
at::Tensor draw(const at::Tensor& probs, at::Generator& generator) {
  return torch::multinomial(probs, 1, /*replacement=*/true, generator).squeeze(-1);
}

SampledTokens finish(const Distribution& d, at::Tensor tokens) {
  auto logprobs = d.logp.gather(-1, tokens.unsqueeze(-1)).squeeze(-1);
  return {std::move(tokens), logprobs};
}

}  // namespace

SampledTokens sample_tokens(const at::Tensor& logits, const SamplerOptions& options, at::Generator& generator) {
  const auto d = distribution(logits, options);
  return finish(d, options.temperature == 0 ? d.logp.argmax(-1) : draw(d.probs, generator));
}

SampledTokens sample_tokens(const at::Tensor& logits, const SamplerOptions& options,
                            std::vector<at::Generator>& generators) {
  VECRL_CHECK(static_cast<int64_t>(generators.size()) == logits.size(0), "sample_tokens: ", generators.size(),
              " generators for ", logits.size(0), " rows");
  const auto d = distribution(logits, options);
  if (options.temperature == 0) return finish(d, d.logp.argmax(-1));
  std::vector<at::Tensor> tokens;
  for (int64_t i = 0; i < logits.size(0); ++i) tokens.push_back(draw(d.probs.narrow(0, i, 1), generators[static_cast<std::size_t>(i)]));
  return finish(d, torch::cat(tokens));
}

}  // namespace vecrl::models
