#include "models/logprobs.h"

#include <torch/autograd.h>
#include <torch/types.h>

#include "core/error.h"
#include "models/generation.h"

namespace vecrl::models {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Moves a saved tensor out of the context, so that the backward pass may overwrite it.
at::Tensor take_saved(AutogradContext* ctx, const std::string& key) {
  auto tensor = ctx->saved_data.at(key).toTensor();
  ctx->saved_data.erase(key);
  return tensor;
}

// log softmax(h·Wᵀ/τ) of one chunk [len, V], in fp32, the logits freed as soon as it exists.
at::Tensor chunk_logprobs(const at::Tensor& h, const at::Tensor& weight, double temperature) {
  auto logits = torch::matmul(h, weight.t()).to(torch::kFloat);
  if (temperature != 1.0) logits.div_(temperature);  // a pass over [len, V] that τ = 1 does not need
  return torch::log_softmax(logits, -1);
}

// Per-row log-prob of the target and entropy of softmax(h·Wᵀ/τ), `chunk` rows at a time in both
// directions: backward recomputes each chunk's logits instead of keeping them, so [M, V] never
// exists, with or without gradients. With p = softmax(z), z = h·Wᵀ/τ:
//   d log p_y / dz = onehot(y) − p,   dH / dz = −p ⊙ (log p + H).
struct FusedTokenLogprobs : public torch::autograd::Function<FusedTokenLogprobs> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& hidden, const at::Tensor& weight,
                               const at::Tensor& targets, double temperature, bool with_entropy, int64_t chunk) {
    const int64_t M = hidden.size(0);
    auto logprobs = torch::empty({M}, hidden.options().dtype(torch::kFloat));
    auto entropy = torch::zeros({with_entropy ? M : 0}, hidden.options().dtype(torch::kFloat));
    at::Tensor last_logp;
    for (int64_t r0 = 0; r0 < M; r0 += chunk) {
      const int64_t len = std::min(chunk, M - r0);
      auto logp = chunk_logprobs(hidden.narrow(0, r0, len), weight, temperature);
      last_logp = logp;
      logprobs.narrow(0, r0, len).copy_(logp.gather(-1, targets.narrow(0, r0, len).unsqueeze(-1)).squeeze(-1));
      if (with_entropy) entropy.narrow(0, r0, len).copy_(-(logp.exp() * logp).sum(-1));
    }
    // One chunk holds every row: keeping its log-probs costs no more memory than recomputing them
    // would, and saves the backward pass a second LM-head matmul.
    if (M <= chunk && M > 0) ctx->saved_data["logp"] = last_logp;
    ctx->save_for_backward({hidden, weight, targets});
    ctx->saved_data["temperature"] = temperature;
    ctx->saved_data["with_entropy"] = with_entropy;
    ctx->saved_data["chunk"] = chunk;
    return {logprobs, entropy};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &hidden = saved[0], &weight = saved[1], &targets = saved[2];
    const double temperature = ctx->saved_data["temperature"].toDouble();
    const bool with_entropy = ctx->saved_data["with_entropy"].toBool();
    const int64_t chunk = ctx->saved_data["chunk"].toInt();
    const auto& grad_logp = grads[0];
    const bool entropy_grad = with_entropy && grads[1].defined();
    auto grad_hidden = torch::zeros_like(hidden);
    at::Tensor grad_weight;  // [V, D] float32: the first chunk's product, then a sum
    const int64_t M = hidden.size(0);
    for (int64_t r0 = 0; r0 < M; r0 += chunk) {
      const int64_t len = std::min(chunk, M - r0);
      auto h = hidden.narrow(0, r0, len);
      // Two [len, V] buffers at a time, updated in place. The forward's log-probs are taken, not
      // copied: a second backward through this graph finds none and recomputes them.
      auto logp = ctx->saved_data.count("logp") ? take_saved(ctx, "logp") : chunk_logprobs(h, weight, temperature);
      auto grad_z = entropy_grad ? logp.exp() : logp.exp_();  // p, then the gradient
      if (entropy_grad) {
        auto entropy = -(grad_z * logp).sum(-1, /*keepdim=*/true);
        logp.add_(entropy).mul_(grad_z).mul_(-grads[1].narrow(0, r0, len).unsqueeze(-1));  // dH/dz · gH
      }
      if (grad_logp.defined()) {
        auto g = grad_logp.narrow(0, r0, len).unsqueeze(-1);  // [len, 1]
        grad_z.mul_(-g).scatter_add_(-1, targets.narrow(0, r0, len).unsqueeze(-1), g);
      } else {
        grad_z.zero_();
      }
      if (entropy_grad) grad_z.add_(logp);
      logp = at::Tensor();
      if (temperature != 1.0) grad_z.div_(temperature);
      grad_z = grad_z.to(weight.scalar_type());
      grad_hidden.narrow(0, r0, len).copy_(torch::matmul(grad_z, weight));
      auto chunk_grad_weight = torch::matmul(grad_z.t(), h).to(torch::kFloat);
      // 0 + x is x: the first chunk's product is the sum so far, without a zeroed [V, D] to add it to.
      grad_weight = grad_weight.defined() ? grad_weight.add_(chunk_grad_weight) : chunk_grad_weight;
    }
    if (!grad_weight.defined()) grad_weight = torch::zeros(weight.sizes(), weight.options().dtype(torch::kFloat));
    return {grad_hidden, grad_weight.to(weight.scalar_type()), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

ResponseScores plain_token_logprobs(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& targets,
                                    double temperature, bool with_entropy) {
  auto logp = torch::log_softmax(torch::matmul(hidden, weight.t()).to(torch::kFloat) / temperature, -1);
  ResponseScores out;
  out.logprobs = logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1);
  if (with_entropy) out.entropy = -(logp.exp() * logp).sum(-1);
  return out;
}

ResponseScores fused_token_logprobs(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& targets,
                                    double temperature, bool with_entropy, int64_t chunk_rows) {
  VECRL_CHECK(hidden.dim() == 2 && weight.dim() == 2 && hidden.size(1) == weight.size(1), "fused_token_logprobs: hidden ",
              hidden.sizes(), " and weight ", weight.sizes(), " must be [M, D] and [V, D]");
  VECRL_CHECK(targets.dim() == 1 && targets.size(0) == hidden.size(0), "fused_token_logprobs: targets ", targets.sizes(),
              " must be [", hidden.size(0), "]");
  VECRL_CHECK(chunk_rows >= 1, "fused_token_logprobs: chunk_rows must be >= 1, got ", chunk_rows);
  auto outputs = FusedTokenLogprobs::apply(hidden, weight, targets, temperature, with_entropy, chunk_rows);
  ResponseScores out;
  out.logprobs = outputs[0];
  if (with_entropy) out.entropy = outputs[1];
  return out;
}

ResponseScores score_responses(CausalLM& model, const at::Tensor& prompt_ids, const at::Tensor& prompt_mask,
                               const at::Tensor& response_ids, double temperature, bool with_entropy,
                               int64_t chunk_tokens) {
  VECRL_CHECK(prompt_ids.dim() == 2 && prompt_mask.sizes() == prompt_ids.sizes(), "score_responses: prompt_ids ",
              prompt_ids.sizes(), " and prompt_mask ", prompt_mask.sizes(), " must be equal [N, Lp]");
  VECRL_CHECK(response_ids.dim() == 2 && response_ids.size(0) == prompt_ids.size(0), "score_responses: response_ids ",
              response_ids.sizes(), " must be [", prompt_ids.size(0), ", T]");
  VECRL_CHECK(temperature > 0, "score_responses: temperature must be > 0, got ", temperature);
  const int64_t N = prompt_ids.size(0), Lp = prompt_ids.size(1), T = response_ids.size(1);
  auto prompt_len = prompt_mask.to(torch::kLong).sum(1, /*keepdim=*/true);                  // [N, 1]
  auto response_pos = prompt_len + torch::arange(T, prompt_len.options()).unsqueeze(0);     // [N, T]
  auto tokens = torch::cat({prompt_ids, response_ids}, 1);                                   // [N, Lp+T]
  auto positions = torch::cat({positions_from_mask(prompt_mask), response_pos}, 1);
  auto key_valid = torch::cat({prompt_mask, torch::ones({N, T}, prompt_mask.options())}, 1);
  auto hidden = model->hidden({tokens, positions, key_valid});  // [N, Lp+T, D]
  auto predicting = hidden.narrow(1, Lp - 1, T);                // states that predict response tokens

  auto rows = predicting.reshape({N * T, predicting.size(2)});
  auto flat = chunk_tokens > 0 ? fused_token_logprobs(rows, model->output_weight(), response_ids.reshape({N * T}),
                                                      temperature, with_entropy, chunk_tokens)
                               : plain_token_logprobs(rows, model->output_weight(), response_ids.reshape({N * T}),
                                                      temperature, with_entropy);
  ResponseScores out;
  out.logprobs = flat.logprobs.view({N, T});
  if (with_entropy) out.entropy = flat.entropy.view({N, T});
  return out;
}

}  // namespace vecrl::models
