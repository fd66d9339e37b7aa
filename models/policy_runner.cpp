#include "models/policy_runner.h"

#include <torch/types.h>

#include "core/error.h"
#include "models/hf_checkpoint.h"
#include "models/lora.h"
#include "models/peft.h"

namespace vecrl::models {

namespace {

// The YAML's options, or the adapter folder's when `path` names one (a YAML rank must then agree).
LoraOptions resolve_lora(const LoraOptions& asked) {
  if (asked.path.empty()) return asked;
  LoraOptions found = read_peft_options(asked.path);
  VECRL_CHECK(asked.rank == 0 || asked.rank == found.rank, "model.lora.rank is ", asked.rank, " but the adapter in ",
              asked.path, " has r = ", found.rank);
  found.init = asked.init;
  return found;
}

}  // namespace

PolicyRunner::PolicyRunner(const std::string& model_dir, bool load_reference, const LoraOptions& lora)
    : model_dir_(model_dir), policy_(load_causal_lm(model_dir)), tokenizer_(load_tokenizer(model_dir)) {
  if (lora.enabled()) {
    const LoraOptions options = resolve_lora(lora);
    add_lora(policy_, options);
    if (!options.path.empty()) load_peft_adapter(policy_, options.path);
  }
  if (load_reference && policy_->lora()) {
    reference_ = std::make_unique<CausalLM>(base_view(policy_));  // no second copy of the weights
  } else if (load_reference) {
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
  policy_->fuse_projections();
  if (reference_) {
    (*reference_)->to(device);
    (*reference_)->fuse_projections();
  }
}

c10::Device PolicyRunner::device() const { return policy_->model->embed_tokens->weight.device(); }

}  // namespace vecrl::models
