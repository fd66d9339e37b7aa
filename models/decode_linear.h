#pragma once
// x·Wᵀ for a decode step on the CPU (float32, no autograd): its projections and LM head.
//
// A decode step multiplies a few rows (one per sequence) by every weight matrix. At 32 rows a BLAS
// GEMM spends about as long packing the weight matrix into its panel layout as multiplying
// (OpenBLAS 0.3.21: sgemm_incopy 22% of a llama-42m decode step beside the kernel's 36%), and it
// runs 4 rows at a tenth of its large-matrix rate. Here each group of weight rows is read where it
// lies and multiplied into every input row while it sits in the L1 cache: the weights are read
// once per call and never copied.
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace vecrl::models {

// Whether `decode_linear` serves x against weight [N, K]: a decode step's rows (one position per
// sequence: x [N, K] or [N, 1, K]) in float32 on the CPU with gradients off, and K >= 128 (for
// shorter dot products each tile's sixteen horizontal sums cost as much as its multiply-adds:
// stories260K's K = 64 ran 25% slower than the BLAS). It serves every such step whatever its row
// count, so a row's result never depends on how many rows share the step (ranks, group sizes),
// as the sampler's draws do not; prefill and log-prob passes keep ATen's matmul.
constexpr int64_t kDecodeLinearMinDepth = 128;
bool decode_linear_applies(const at::Tensor& x, const at::Tensor& weight);

// x [.., K], weight [N, K] (contiguous rows), bias [N] or undefined -> [.., N] = x·weightᵀ + bias.
at::Tensor decode_linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias = {});

}  // namespace vecrl::models
