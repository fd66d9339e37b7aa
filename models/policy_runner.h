#pragma once
// The trainable policy, its frozen reference (only when something needs it) and the tokenizer.
// With LoRA the policy carries adapters and the reference is the same modules with them off.
#include <c10/core/Device.h>

#include <memory>
#include <string>

#include "models/lora_options.h"
#include "models/tokenizer.h"
#include "models/transformer.h"

namespace vecrl::models {

class PolicyRunner {
 public:
  PolicyRunner(const std::string& model_dir, bool load_reference, const LoraOptions& lora = {});

  CausalLM& policy() { return policy_; }
  // nullptr when no reference was requested.
  CausalLM* reference() { return reference_ ? &*reference_ : nullptr; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const std::string& model_dir() const { return model_dir_; }
  // Fused attention kernels and the compute dtype, in the policy and the reference alike.
  void set_fused_attention(bool on);
  void set_compute_dtype(at::ScalarType dtype);
  // Moves the policy and the reference (parameters, and so gradients and optimizer state made later).
  void to(c10::Device device);
  c10::Device device() const;

 private:
  std::string model_dir_;
  CausalLM policy_{nullptr};
  std::unique_ptr<CausalLM> reference_;
  std::unique_ptr<Tokenizer> tokenizer_;
};

}  // namespace vecrl::models
