#pragma once
// Per-token log-probs (and entropy) of responses under a model, computed by one forward over
// prompt ++ response and a chunked LM head so [B, T, V] logits never exist at once.
#include <ATen/core/Tensor.h>

#include "models/transformer.h"

namespace vecrl::models {

struct ResponseScores {
  at::Tensor logprobs;  // [N, T] float32, log p(response_t | prompt, response_<t) at temperature
  at::Tensor entropy;   // [N, T] float32 entropy of that distribution (undefined unless requested)
};

// prompt_ids/prompt_mask [N, Lp] (left-padded), response_ids [N, T]. Gradients flow when enabled.
ResponseScores score_responses(CausalLM& model, const at::Tensor& prompt_ids, const at::Tensor& prompt_mask,
                               const at::Tensor& response_ids, double temperature, bool with_entropy,
                               int64_t chunk_tokens = 1024);

}  // namespace vecrl::models
