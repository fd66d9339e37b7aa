#pragma once
// The sampler chain: temperature -> top-p -> draw. Pure functions over [N, V] logits; the random
// generator is explicit and seeded by the caller.
#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

namespace vecrl::models {

struct SamplerOptions {
  double temperature = 1.0;  // 0 = greedy (argmax)
  double top_p = 1.0;        // nucleus mass kept, in (0, 1]
};

struct SampledTokens {
  at::Tensor tokens;    // [N] int64
  at::Tensor logprobs;  // [N] float32, log-prob of each token under softmax(logits / temperature)
};

// logits [N, V]. The recorded log-prob is that of the tempered, untruncated distribution, the same
// quantity the trainer recomputes (greedy records the plain softmax log-prob).
SampledTokens sample_tokens(const at::Tensor& logits, const SamplerOptions& options, at::Generator& generator);

}  // namespace vecrl::models
