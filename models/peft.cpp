#include "models/peft.h"

#include <torch/types.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_input.h"
#include "core/safetensors.h"

namespace vecrl::models {
namespace fs = std::filesystem;
namespace {

const std::string kPrefix = "base_model.model.";

bool present(const nlohmann::json& config, const char* key) {
  return config.contains(key) && !config[key].is_null() && config[key] != false &&
         !(config[key].is_array() && config[key].empty());
}

}  // namespace

void save_peft_adapter(const CausalLM& model, const std::string& dir, const std::string& base_model) {
  VECRL_CHECK(model->lora(), "export: the model has no LoRA adapters");
  const auto& o = model->lora()->options;
  fs::create_directories(dir);
  std::map<std::string, at::Tensor> tensors;
  for (const auto& [name, t] : trainable_state(model)) tensors.emplace(kPrefix + name, t.to(torch::kCPU).contiguous());
  core::write_safetensors((fs::path(dir) / "adapter_model.safetensors").string(), tensors, {{"format", "pt"}});
  const nlohmann::json config = {
      {"peft_type", "LORA"},        {"task_type", "CAUSAL_LM"},       {"r", o.rank},
      {"lora_alpha", o.alpha},      {"lora_dropout", o.dropout},      {"target_modules", o.target_modules},
      {"bias", "none"},             {"fan_in_fan_out", false},        {"use_rslora", false},
      {"use_dora", false},          {"modules_to_save", nullptr},     {"layers_to_transform", nullptr},
      {"init_lora_weights", o.init == "gaussian" ? nlohmann::json("gaussian") : nlohmann::json(true)},
      {"inference_mode", true},     {"base_model_name_or_path", base_model}};
  std::ofstream(fs::path(dir) / "adapter_config.json") << config.dump(2) << "\n";
}

LoraOptions read_peft_options(const std::string& dir) {
  const std::string path = (fs::path(dir) / "adapter_config.json").string();
  VECRL_CHECK(fs::is_regular_file(path), dir, ": not a PEFT adapter folder (no adapter_config.json)");
  const nlohmann::json c = core::read_json_file(path);
  auto fail = [&](const std::string& key, const std::string& what) {
    throw core::Error(core::str_cat(path, ": '", key, "' ", what));
  };
  if (c.value("peft_type", std::string("LORA")) != "LORA") fail("peft_type", "is " + c["peft_type"].dump() + ", only LORA is supported");
  for (const char* key : {"use_dora", "use_rslora", "fan_in_fan_out", "modules_to_save", "layers_to_transform",
                          "layers_pattern", "rank_pattern", "alpha_pattern"})
    if (present(c, key)) fail(key, "is set (" + c[key].dump() + "); vecrl's LoRA does not implement it");
  if (c.value("bias", std::string("none")) != "none") fail("bias", "must be \"none\" (vecrl trains no biases)");
  try {
    LoraOptions o;
    o.rank = c.at("r").get<int64_t>();
    o.alpha = c.at("lora_alpha").get<double>();
    o.dropout = c.value("lora_dropout", 0.0);
    if (!c.at("target_modules").is_array()) fail("target_modules", "must be a list of layer names (a regex is not supported)");
    o.target_modules = c["target_modules"].get<std::vector<std::string>>();
    o.path = dir;
    VECRL_CHECK(o.rank > 0 && o.alpha > 0, path, ": r and lora_alpha must be > 0");
    return o;
  } catch (const nlohmann::json::exception& e) {
    throw core::Error(core::str_cat(path, ": ", e.what()));
  }
}

void load_peft_adapter(CausalLM& model, const std::string& dir) {
  const std::string path = (fs::path(dir) / "adapter_model.safetensors").string();
  std::map<std::string, at::Tensor> ours;
  std::string foreign;
  for (auto& [name, t] : core::read_safetensors(path)) {
    std::string n = name;
    if (n.rfind(kPrefix, 0) == 0) n = n.substr(kPrefix.size());
    // PEFT writes no adapter name in saved files, but some tools keep ".default".
    for (const char* part : {".lora_A.default.", ".lora_B.default."}) {
      const auto at = n.find(part);
      if (at != std::string::npos) n.replace(at, std::string(part).size(), std::string(part).substr(0, 8));
    }
    if (!is_lora_parameter(n)) foreign += (foreign.empty() ? "'" : ", '") + name + "'";
    ours.emplace(n, t);
  }
  VECRL_CHECK(foreign.empty(), path, ": tensors that are not LoRA A/B matrices: ", foreign);
  load_trainable_state(model, ours, path);
}

nlohmann::json lora_options_json(const LoraOptions& o) {
  return {{"rank", o.rank}, {"alpha", o.alpha}, {"dropout", o.dropout}, {"target_modules", o.target_modules}, {"init", o.init}};
}

LoraOptions lora_options_from_json(const nlohmann::json& json, const std::string& where) {
  try {
    LoraOptions o;
    o.rank = json.at("rank").get<int64_t>();
    o.alpha = json.at("alpha").get<double>();
    o.dropout = json.at("dropout").get<double>();
    o.target_modules = json.at("target_modules").get<std::vector<std::string>>();
    o.init = json.at("init").get<std::string>();
    return o;
  } catch (const nlohmann::json::exception& e) {
    throw core::Error(core::str_cat(where, ": LoRA options: ", e.what()));
  }
}

}  // namespace vecrl::models
