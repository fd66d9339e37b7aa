#pragma once
// Per-token log-probs (and entropy) of responses under a model, computed by one forward over
// prompt ++ response and a fused, chunked LM head so [B, T, V] logits never exist at once, in the
// forward or the backward pass.
#include <ATen/core/Tensor.h>

#include "models/transformer.h"

namespace vecrl::models {

struct ResponseScores {
  at::Tensor logprobs;  // [N, T] float32, log p(response_t | prompt, response_<t) at temperature
  at::Tensor entropy;   // [N, T] float32 entropy of that distribution (undefined unless requested)
};

// hidden [M, D], weight [V, D], targets [M] -> log p(target) and (when asked) entropy [M] of
// softmax(hidden · weightᵀ / temperature), chunk_rows rows at a time. Gradients reach hidden and
// weight; backward recomputes each chunk's logits, so [M, V] is never held, not even for autograd.
ResponseScores fused_token_logprobs(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& targets,
                                    double temperature, bool with_entropy, int64_t chunk_rows);

// The reference: the whole [M, V] logits under plain autograd.
ResponseScores plain_token_logprobs(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& targets,
                                    double temperature, bool with_entropy);

// prompt_ids/prompt_mask [N, Lp] (left-padded), response_ids [N, T]. Gradients flow when enabled.
// chunk_tokens rows of the LM head at a time (fused); <= 0 uses the plain reference instead.
ResponseScores score_responses(CausalLM& model, const at::Tensor& prompt_ids, const at::Tensor& prompt_mask,
                               const at::Tensor& response_ids, double temperature, bool with_entropy,
                               int64_t chunk_tokens = 1024);

}  // namespace vecrl::models
