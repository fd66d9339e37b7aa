#pragma once
// Next-token log-probabilities after positions of one token sequence (judges, `vecrl serve`'s
// top_logprobs): one forward pass, the LM head applied only to the rows asked for.
#include <ATen/core/Tensor.h>

#include <vector>

#include "models/transformer.h"

namespace vecrl::models {

// log p(· | tokens[0..i]) for i in [first, len): [len - first, V] float32 on the CPU.
at::Tensor next_token_logprobs(CausalLM& model, const std::vector<int64_t>& tokens, int64_t first);

}  // namespace vecrl::models
