#pragma once
// Micro-batches: the rows of a (mini-)batch cut into pieces that fit one forward/backward pass.
// Gradients add up over micro-batches, so neither limit changes an update.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "core/batch.h"

namespace vecrl::trainer {

// Some rows of the batch, cut to their own longest prompt and response so padding of other rows
// costs nothing.
struct MicroBatch {
  at::Tensor rows;         // [m] int64
  int64_t prompt_len = 0;  // columns kept at the right of the left-padded prompts
  int64_t response_len = 0;
  // [N, Lp] prompt-shaped and [N, T] response-shaped tensors restricted to this micro-batch.
  at::Tensor prompt_part(const at::Tensor& x) const;
  at::Tensor response_part(const at::Tensor& x) const;
};

// Consecutive `rows` [R] of `rollouts` grouped into micro-batches of at most `max_rows` rows and,
// when max_tokens > 0, at most max_tokens padded tokens (rows x (longest prompt + longest
// response)); a single row over the budget is a micro-batch of its own.
std::vector<MicroBatch> plan_micro_batches(const at::Tensor& rows, const core::Rollouts& rollouts, int64_t max_rows,
                                           int64_t max_tokens);

}  // namespace vecrl::trainer
