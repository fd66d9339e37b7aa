#pragma once
#include <string>

#include "models/transformer.h"

namespace vecrl::models {

// Loads config.json + model.safetensors (or model.safetensors.index.json shards) from a HuggingFace
// model folder. Fails on missing tensors, unexpected tensors and shape mismatches, naming them.
CausalLM load_causal_lm(const std::string& model_dir);

// Copies HF-named tensors into the model's parameters (checks names and shapes).
void load_state(CausalLM& model, const std::map<std::string, at::Tensor>& tensors, const std::string& where);

}  // namespace vecrl::models
