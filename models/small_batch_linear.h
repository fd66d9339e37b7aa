#pragma once
// x·Wᵀ for a few rows on the CPU (float32, no autograd): a decode step's projections and LM head.
//
// At 32 rows a BLAS GEMM spends about as long packing the weight matrix into its panel layout as
// multiplying (OpenBLAS 0.3.21: sgemm_incopy 22% of a llama-42m decode step beside the kernel's
// 36%), and it runs the 4-row case at a tenth of its large-matrix rate. Here each group of weight
// rows is read where it lies and multiplied into every input row while it sits in the L1 cache,
// so the weights are read once per call and never copied.
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace vecrl::models {

// Whether `small_batch_linear` serves x [.., K] against weight [N, K]: float32 CPU tensors with
// gradients off, at most kSmallBatchRows rows and K >= kSmallBatchMinDepth. Outside that the BLAS
// is as fast or faster: from 128 rows on, and for short dot products, where each tile's sixteen
// horizontal sums cost as much as its multiply-adds (stories260K's K = 64 ran 25% slower).
constexpr int64_t kSmallBatchRows = 64, kSmallBatchMinDepth = 128;
bool small_batch_linear_applies(const at::Tensor& x, const at::Tensor& weight);

// x [.., K], weight [N, K] (contiguous rows), bias [N] or undefined -> [.., N] = x·weightᵀ + bias.
at::Tensor small_batch_linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias = {});

}  // namespace vecrl::models
