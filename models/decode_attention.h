#pragma once
// One decode step's attention over a KV cache, written out for the CPU (float32, no autograd).
//
// ATen 1.13 runs a decode step's attention as two batched matmuls, which it issues to the BLAS one
// (row, head) at a time: at 32 rows × 8 heads that is 512 tiny sgemm calls per layer, plus the
// softmax and mask ops, and on llama-42m it was a quarter of the decode step. Here each (row, kv
// head) is one pass over its cached keys and values: scores, softmax and the weighted sum of values
// without temporaries, all rows in one parallel loop.
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace vecrl::models {

// Whether `decode_attention` serves these queries: float32 on the CPU with gradients off.
bool decode_attention_applies(const at::Tensor& q);

// q [B, Hkv, R, d]: the R query heads that share each kv head (R = 1 without grouped queries);
// keys, values [B, Hkv, C, d]: the cache, whose first `length` positions are attended;
// bias [B, 1, 1, >= length]: the additive mask (0 or -inf) of each row's keys.
// Returns [B, Hkv, R, d] = softmax(q·kᵀ/√d + bias)·v, as scaled_dot_product_attention does.
at::Tensor decode_attention(const at::Tensor& q, const at::Tensor& keys, const at::Tensor& values, int64_t length,
                            const at::Tensor& bias);

}  // namespace vecrl::models
