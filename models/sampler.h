#pragma once
// The sampler chain: temperature -> top-k -> top-p -> min-p -> draw. Pure functions over [N, V] logits on
// any device. Randomness comes in as one uniform number per row, so a row's draw depends only on its own
// number: counter_uniforms() derives them from (seed, step) with no generator state, which keeps samples
// independent of batch composition and lets many steps' draws go to the device in one copy.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace vecrl::models {

struct SamplerOptions {
  double temperature = 1.0;  // 0 = greedy (argmax)
  int64_t top_k = 0;         // keep the k most likely tokens; 0 = all
  double top_p = 1.0;        // nucleus mass kept (of what top-k left, renormalised), in (0, 1]
  double min_p = 0.0;        // drop tokens below min_p x the top token's probability; 0 = off
};

struct SampledTokens {
  at::Tensor tokens;    // [N] int64
  at::Tensor logprobs;  // [N] float32, log-prob of each token under softmax(logits / temperature)
};

// logits [N, V]; uniforms [N] float32 in [0, 1) on the logits' device (unused when greedy). Row i takes
// the token where the truncated distribution's CDF first exceeds uniforms[i] (inverse CDF). The recorded
// log-prob is that of the tempered, untruncated distribution, the quantity the trainer recomputes
// (greedy records the plain softmax log-prob).
SampledTokens sample_tokens(const at::Tensor& logits, const SamplerOptions& options, const at::Tensor& uniforms);

// [N, steps] float32 on the CPU: element (i, t) is the top 24 bits of mix_seed(seeds[i], first_step + t)
// over 2^24, a uniform in [0, 1) whose product with any positive float32 stays below that float.
at::Tensor counter_uniforms(const std::vector<uint64_t>& seeds, int64_t first_step, int64_t steps);

}  // namespace vecrl::models
