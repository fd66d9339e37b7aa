#pragma once
#include <string>

#include "models/transformer.h"

namespace vecrl::models {

// Loads config.json + model.safetensors (or model.safetensors.index.json shards) from a HuggingFace
// model folder. Fails on missing tensors, unexpected tensors and shape mismatches, naming them.
CausalLM load_causal_lm(const std::string& model_dir);

// Copies HF-named tensors into the model's parameters (checks names and shapes). With `selected`,
// only the parameters it accepts are expected (a LoRA checkpoint's adapters); any other tensor is
// unexpected. Every unexpected tensor is named.
void load_state(CausalLM& model, const std::map<std::string, at::Tensor>& tensors, const std::string& where,
                const std::function<bool(const std::string&)>& selected = {});

// A fingerprint of a model folder's weights ("fnv64:<hex>"): every *.safetensors file's name and
// size, and 16 chunks of 64 KiB spread over it — cheap for a 16 GB model, and different for any two
// models that are not copies of each other in practice. LoRA checkpoints record their base's.
std::string weights_fingerprint(const std::string& model_dir);

}  // namespace vecrl::models
