#pragma once
// PEFT's LoRA adapter folder (huggingface/peft): adapter_config.json and adapter_model.safetensors
// with tensors named base_model.model.<HF name>.lora_A.weight / .lora_B.weight.
#include <nlohmann/json.hpp>

#include <string>

#include "models/lora.h"

namespace vecrl::models {

// Writes the adapters of a LoRA model; `base_model` goes into base_model_name_or_path.
void save_peft_adapter(const CausalLM& model, const std::string& dir, const std::string& base_model);

// The options an adapter folder was trained with (r, lora_alpha, lora_dropout, target_modules).
// Features vecrl does not implement (DoRA, rsLoRA, bias training, modules_to_save, a regex or
// per-layer selection, fan_in_fan_out) are errors naming the key.
LoraOptions read_peft_options(const std::string& dir);

// Copies the folder's adapter weights into a model that add_lora gave the same options. A tensor
// naming a module the model does not have, or a missing one, is an error naming them.
void load_peft_adapter(CausalLM& model, const std::string& dir);

// The options as JSON ({rank, alpha, dropout, target_modules, init}) and back: a LoRA checkpoint's
// state.json keeps them, so `vecrl export` rebuilds the same adapters.
nlohmann::json lora_options_json(const LoraOptions& options);
LoraOptions lora_options_from_json(const nlohmann::json& json, const std::string& where);

}  // namespace vecrl::models
