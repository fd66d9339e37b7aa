#include "models/policy_runner.h"

#include <torch/types.h>

#include "models/hf_checkpoint.h"

namespace vecrl::models {

PolicyRunner::PolicyRunner(const std::string& model_dir, bool load_reference)
    : model_dir_(model_dir), policy_(load_causal_lm(model_dir)), tokenizer_(load_tokenizer(model_dir)) {
  if (load_reference) {
    reference_ = std::make_unique<CausalLM>(load_causal_lm(model_dir));
    (*reference_)->eval();
    for (auto& p : (*reference_)->parameters()) p.set_requires_grad(false);
  }
}

void PolicyRunner::set_fused_attention(bool on) {
  policy_->set_fused_attention(on);
  if (reference_) (*reference_)->set_fused_attention(on);
}

void PolicyRunner::set_compute_dtype(at::ScalarType dtype) {
  policy_->set_compute_dtype(dtype);
  if (reference_) (*reference_)->set_compute_dtype(dtype);
}

void PolicyRunner::to(c10::Device device) {
  policy_->to(device);
  if (reference_) (*reference_)->to(device);
}

c10::Device PolicyRunner::device() const { return policy_->model->embed_tokens->weight.device(); }

}  // namespace vecrl::models
