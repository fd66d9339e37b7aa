#include "models/fused_adamw.h"

#include <ATen/Parallel.h>
#include <c10/util/string_utils.h>

#include <cmath>
#include <initializer_list>
#include <memory>
#include <tuple>

#include "core/error.h"

namespace vecrl::models {
namespace {

using torch::optim::AdamWOptions;
using torch::optim::AdamWParamState;

bool fused_pass_applies(const torch::Tensor& p, const torch::Tensor& grad, const AdamWParamState& state,
                        const AdamWOptions& options) {
  auto cpu_float = [](const torch::Tensor& t) {
    return t.is_cpu() && t.scalar_type() == at::kFloat && t.is_contiguous() && t.layout() == at::kStrided;
  };
  return !options.amsgrad() && cpu_float(p) && cpu_float(grad) && cpu_float(state.exp_avg()) &&
         cpu_float(state.exp_avg_sq()) && grad.numel() == p.numel();
}

// torch::optim::AdamW's op sequence, for what the fused pass does not cover.
void aten_update(torch::Tensor& p, const torch::Tensor& grad, AdamWParamState& state, const AdamWOptions& options) {
  const auto [beta1, beta2] = options.betas();
  const auto step = static_cast<double>(state.step());
  const double bias_correction1 = 1 - std::pow(beta1, step), bias_correction2 = 1 - std::pow(beta2, step);
  if (options.weight_decay() != 0) p.mul_(1 - options.lr() * options.weight_decay());
  state.exp_avg().mul_(beta1).add_(grad, 1 - beta1);
  state.exp_avg_sq().mul_(beta2).addcmul_(grad, grad, 1 - beta2);
  auto second_moment = state.exp_avg_sq();
  if (options.amsgrad()) {
    at::maximum_out(state.max_exp_avg_sq(), state.max_exp_avg_sq(), state.exp_avg_sq());
    second_moment = state.max_exp_avg_sq();
  }
  auto denom = (second_moment.sqrt() / std::sqrt(bias_correction2)).add_(options.eps());
  p.addcdiv_(state.exp_avg(), denom, -options.lr() / bias_correction1);
}

// One contiguous range; built for AVX-512, AVX2 + FMA and the baseline, chosen at load time.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
void update_range(float* __restrict p, const float* __restrict g, float* __restrict m, float* __restrict v,
                  int64_t n, const AdamWStepConstants c) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i];
    const float mi = m[i] * c.beta1 + c.one_minus_beta1 * gi;
    const float vi = v[i] * c.beta2 + c.one_minus_beta2 * gi * gi;
    const float denom = std::sqrt(vi) / c.sqrt_bias_correction2 + c.eps;
    p[i] = p[i] * c.decay + c.neg_step_size * (mi / denom);
    m[i] = mi;
    v[i] = vi;
  }
}

}  // namespace

AdamWStepConstants adamw_step_constants(const AdamWOptions& options, int64_t step) {
  const auto [beta1, beta2] = options.betas();
  const auto t = static_cast<double>(step);
  AdamWStepConstants c;
  c.decay = static_cast<float>(1 - options.lr() * options.weight_decay());
  c.beta1 = static_cast<float>(beta1);
  c.one_minus_beta1 = static_cast<float>(1 - beta1);
  c.beta2 = static_cast<float>(beta2);
  c.one_minus_beta2 = static_cast<float>(1 - beta2);
  c.sqrt_bias_correction2 = static_cast<float>(std::sqrt(1 - std::pow(beta2, t)));
  c.eps = static_cast<float>(options.eps());
  c.neg_step_size = static_cast<float>(-options.lr() / (1 - std::pow(beta1, t)));
  return c;
}

void adamw_update(float* p, const float* g, float* m, float* v, int64_t n, const AdamWStepConstants& c) {
  // 16K floats (four 64 KiB streams) per task: enough to outlast a thread's start-up.
  at::parallel_for(0, n, int64_t{1} << 14, [&](int64_t begin, int64_t end) {
    update_range(p + begin, g + begin, m + begin, v + begin, end - begin, c);
  });
}

FusedAdamW::FusedAdamW(std::vector<torch::optim::OptimizerParamGroup> param_groups, AdamWOptions defaults)
    : AdamW(std::move(param_groups), std::move(defaults)) {
  for (auto& group : param_groups_)
    for (auto& p : group.params()) state_of(p, static_cast<const AdamWOptions&>(group.options()));
}

FusedAdamW::FusedAdamW(std::vector<torch::Tensor> params, AdamWOptions defaults)
    : FusedAdamW({torch::optim::OptimizerParamGroup(std::move(params))}, std::move(defaults)) {}

void clear_gradients(torch::optim::Optimizer& optimizer) {
  for (auto& group : optimizer.param_groups())
    for (auto& p : group.params()) p.mutable_grad().reset();
}

AdamWParamState& FusedAdamW::state_of(const torch::Tensor& p, const AdamWOptions& options) {
  // Keyed as torch::optim::AdamW keys it, which its save/load rely on.
  const auto key = c10::guts::to_string(p.unsafeGetTensorImpl());
  auto found = state_.find(key);
  if (found == state_.end()) {
    auto state = std::make_unique<AdamWParamState>();
    state->step(0);
    state->exp_avg(torch::zeros_like(p, at::MemoryFormat::Preserve));
    state->exp_avg_sq(torch::zeros_like(p, at::MemoryFormat::Preserve));
    if (options.amsgrad()) state->max_exp_avg_sq(torch::zeros_like(p, at::MemoryFormat::Preserve));
    found = state_.emplace(key, std::move(state)).first;
  }
  return static_cast<AdamWParamState&>(*found->second);
}

torch::Tensor FusedAdamW::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure != nullptr) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  for (auto& group : param_groups_) {
    const auto& options = static_cast<const AdamWOptions&>(group.options());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      const auto& grad = p.grad();
      VECRL_CHECK(!grad.is_sparse(), "AdamW: parameter ", p.sizes(), " has a sparse gradient, which AdamW does not support");
      auto& state = state_of(p, options);
      state.step(state.step() + 1);
      if (fused_pass_applies(p, grad, state, options)) {
        adamw_update(p.data_ptr<float>(), grad.data_ptr<float>(), state.exp_avg().data_ptr<float>(),
                     state.exp_avg_sq().data_ptr<float>(), p.numel(), adamw_step_constants(options, state.step()));
        // As an in-place ATen op would: caches keyed by the version (bf16 weight casts, fused
        // projections) must see the change.
        for (const auto* changed : std::initializer_list<const torch::Tensor*>{&p, &state.exp_avg(), &state.exp_avg_sq()}) {
          changed->unsafeGetTensorImpl()->bump_version();
        }
      } else {
        aten_update(p, grad, state, options);
      }
    }
  }
  return loss;
}

}  // namespace vecrl::models
