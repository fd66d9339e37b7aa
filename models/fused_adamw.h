#pragma once
// AdamW whose step updates each CPU float32 parameter in one pass over (p, g, m, v).
//
// torch::optim::AdamW (LibTorch 1.13) runs nine ATen ops per parameter with two [numel]
// temporaries: about 22 bytes read or written per parameter byte, against 7 for one fused pass
// (read p, g, m, v; write p, m, v). On an LM-head-heavy model (qwen3-50m: 39M of 45M parameters in
// the tied embedding) that memory traffic is most of the optimizer's time. The options, the state
// (AdamWParamState: step, exp_avg, exp_avg_sq) and the serialized form are torch::optim::AdamW's,
// so checkpoints written by either load into the other and resume exactly. Parameters the pass does
// not cover (not CPU float32 contiguous, sparse or amsgrad) take the ATen ops, as before.
#include <torch/optim/adamw.h>

#include <cstdint>

namespace vecrl::models {

// One AdamW update of n floats in place, the arithmetic of torch::optim::AdamW in float32:
//   p <- p·(1 − lr·wd);  m <- β1·m + (1 − β1)·g;  v <- β2·v + (1 − β2)·g²
//   p <- p − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + eps)
// (the same rounding up to fused multiply-adds). Split over threads with at::parallel_for.
struct AdamWStepConstants {
  float decay = 1;         // 1 − lr·wd
  float beta1 = 0.9F, one_minus_beta1 = 0.1F;
  float beta2 = 0.999F, one_minus_beta2 = 0.001F;
  float sqrt_bias_correction2 = 1;
  float eps = 1e-8F;
  float neg_step_size = 0;  // −lr / (1 − β1^t)
};
AdamWStepConstants adamw_step_constants(const torch::optim::AdamWOptions& options, int64_t step);
void adamw_update(float* p, const float* g, float* m, float* v, int64_t n, const AdamWStepConstants& c);

class FusedAdamW : public torch::optim::AdamW {
 public:
  // LibTorch's AdamW constructors, then every parameter's state (step 0, zero moments) at once
  // instead of at its first update: the first backward pass then runs beside the moments as every
  // later one does, so a training loop's memory is laid out by its first step, not grown in its
  // second. Updates are unchanged (a state of step 0 is what the first update would create).
  explicit FusedAdamW(std::vector<torch::optim::OptimizerParamGroup> param_groups, torch::optim::AdamWOptions defaults = {});
  explicit FusedAdamW(std::vector<torch::Tensor> params, torch::optim::AdamWOptions defaults = {});
  torch::Tensor step(LossClosure closure = nullptr) override;

 private:
  torch::optim::AdamWParamState& state_of(const torch::Tensor& p, const torch::optim::AdamWOptions& options);
};

// Leaves every parameter of the optimizer without a gradient, as PyTorch 2's
// zero_grad(set_to_none=True) does (LibTorch 1.13's zero_grad fills them with zeros): the next
// backward pass writes the gradients instead of adding to zeros, and they hold no memory while the
// forward pass runs. Parameters left out of a backward pass keep no gradient, and AdamW skips them.
void clear_gradients(torch::optim::Optimizer& optimizer);

}  // namespace vecrl::models
