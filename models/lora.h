#pragma once
// LoRA adapters (Hu et al., 2021, arXiv 2106.09685) on a CausalLM's linear layers: each target
// layer computes W·x + (alpha/r)·B·A·dropout(x), with A [r, in] and B [out, r] float32 masters
// (cast to the compute dtype at each use, like every weight) and every other parameter frozen.
// Parameter names follow PEFT's (…q_proj.lora_A.weight), so models/peft.h reads and writes PEFT
// folders. The policy generates with its live adapters; the reference is the same modules with
// the adapters off (base_view), so a LoRA run holds one copy of the base weights.
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "models/lora_options.h"
#include "models/transformer.h"

namespace vecrl::models {

struct LoraAdapter {
  torch::nn::Linear A{nullptr};  // lora_A: in -> r
  torch::nn::Linear B{nullptr};  // lora_B: r -> out
  double scale = 1.0;
  double dropout = 0.0;
};

struct LoraAdapters {
  LoraOptions options;
  std::unordered_map<const torch::nn::LinearImpl*, LoraAdapter> by_layer;
};

// While one is alive on this thread with `on`, the models' forward passes leave the adapters out.
class AdaptersOff {
 public:
  explicit AdaptersOff(bool on);
  ~AdaptersOff();
  AdaptersOff(const AdaptersOff&) = delete;
  AdaptersOff& operator=(const AdaptersOff&) = delete;

 private:
  bool previous_;
};

// out [.., out] += scale · B·A·dropout(x [.., in]) when `layer` has an adapter and adapters are on.
void add_lora_update(const LoraAdapters& adapters, const torch::nn::LinearImpl* layer, const at::Tensor& x,
                     at::Tensor& out, WeightCasts* casts, bool training);

// Adds adapters (B = 0: the outputs are unchanged) to options.target_modules in every decoder layer
// and freezes every other parameter. Unknown target names are an error naming them.
void add_lora(CausalLM& model, const LoraOptions& options);

// The same modules with the adapters off (no copy): the base model, frozen, as a reference.
CausalLM base_view(const CausalLM& model);

// The parameters an optimizer updates: the adapters of a LoRA model, else every parameter.
std::vector<at::Tensor> trainable_parameters(const CausalLM& model);
std::map<std::string, at::Tensor> trainable_state(const CausalLM& model);  // HF/PEFT names, detached
// Loads a trainable_state: for a LoRA model exactly its adapters, else the whole model (load_state).
void load_trainable_state(CausalLM& model, const std::map<std::string, at::Tensor>& tensors, const std::string& where);

// The base's parameters in parameter order, every adapter merged in (W + scale·B·A), under the
// base's names: what a merged export writes.
std::vector<std::pair<std::string, at::Tensor>> merged_state(const CausalLM& model);

bool is_lora_parameter(const std::string& name);

}  // namespace vecrl::models
