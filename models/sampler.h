#pragma once
// The sampler chain: temperature -> top-k -> top-p -> min-p -> draw. Pure functions over [N, V] logits; the random
// generator is explicit and seeded by the caller.
#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <vector>

namespace vecrl::models {

struct SamplerOptions {
  double temperature = 1.0;  // 0 = greedy (argmax)
  int64_t top_k = 0;         // keep the k most likely tokens; 0 = all
  double top_p = 1.0;        // nucleus mass kept, in (0, 1]
  double min_p = 0.0;        // drop tokens below min_p x the top token's probability; 0 = off
};

struct SampledTokens {
  at::Tensor tokens;    // [N] int64
  at::Tensor logprobs;  // [N] float32, log-prob of each token under softmax(logits / temperature)
};

// logits [N, V]. The recorded log-prob is that of the tempered, untruncated distribution, the same
// quantity the trainer recomputes (greedy records the plain softmax log-prob).
SampledTokens sample_tokens(const at::Tensor& logits, const SamplerOptions& options, at::Generator& generator);
// The same with one generator per row (row i draws from generators[i]), the distribution computed
// for all rows at once.
SampledTokens sample_tokens(const at::Tensor& logits, const SamplerOptions& options,
                            std::vector<at::Generator>& generators);

}  // namespace vecrl::models
