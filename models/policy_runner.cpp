#include "models/policy_runner.h"

#include <torch/torch.h>

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

}  // namespace vecrl::models
