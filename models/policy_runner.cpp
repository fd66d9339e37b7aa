#include "models/policy_runner.h"

#include <torch/torch.h>

#include "core/error.h"
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

c10::Device PolicyRunner::device() const { return policy_->parameters().front().device(); }

c10::Device resolve_device(const std::string& spec, int64_t local_rank, const std::string& what) {
  const int64_t gpus = torch::cuda::is_available() ? static_cast<int64_t>(torch::cuda::device_count()) : 0;
  if (spec == "cpu" || (spec == "auto" && gpus == 0)) return c10::Device(c10::kCPU);
  int64_t index = local_rank;
  if (spec.rfind("cuda:", 0) == 0) {
    try {
      std::size_t used = 0;
      index = std::stoll(spec.substr(5), &used);
      VECRL_CHECK(used == spec.size() - 5 && index >= 0, "");
    } catch (const std::exception&) {
      throw core::Error(core::str_cat(what, ": expected cpu, cuda, cuda:N or auto, found '", spec, "'"));
    }
  } else {
    VECRL_CHECK(spec == "cuda" || spec == "auto", what, ": expected cpu, cuda, cuda:N or auto, found '", spec, "'");
  }
  VECRL_CHECK(index < gpus, what, ": '", spec, "' needs GPU ", index, " but this ",
              gpus == 0 ? "build or machine has no CUDA device" : core::str_cat("machine has ", gpus, " GPU(s)"));
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

}  // namespace vecrl::models
