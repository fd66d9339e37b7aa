#include "models/hf_checkpoint.h"

#include <torch/types.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/safetensors.h"

namespace vecrl::models {
namespace fs = std::filesystem;

namespace {

// Tensors HF writes that carry no parameters of ours (recomputed buffers).
bool ignorable(const std::string& name, const ModelConfig& c) {
  if (name.size() >= 9 && name.compare(name.size() - 9, 9, "inv_freq") == 0) return true;
  return c.tie_word_embeddings && name == "lm_head.weight";
}

std::map<std::string, at::Tensor> read_weights(const fs::path& dir) {
  const fs::path single = dir / "model.safetensors";
  const fs::path index = dir / "model.safetensors.index.json";
  if (fs::exists(single)) return core::read_safetensors(single.string());
  VECRL_CHECK(fs::exists(index), dir.string(), ": no model.safetensors or model.safetensors.index.json");
  std::ifstream in(index);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw core::Error(core::str_cat(index.string(), ": not valid JSON: ", e.what()));
  }
  VECRL_CHECK(j.contains("weight_map") && j["weight_map"].is_object(), index.string(), ": missing 'weight_map'");
  std::set<std::string> shards;
  for (const auto& [name, shard] : j["weight_map"].items()) shards.insert(shard.get<std::string>());
  std::map<std::string, at::Tensor> all;
  for (const auto& shard : shards) {
    for (auto& [name, t] : core::read_safetensors((dir / shard).string())) {
      VECRL_CHECK(all.count(name) == 0, index.string(), ": tensor '", name, "' appears in two shards");
      all.emplace(name, std::move(t));
    }
  }
  return all;
}

}  // namespace

void load_state(CausalLM& model, const std::map<std::string, at::Tensor>& tensors, const std::string& where) {
  torch::NoGradGuard no_grad;
  std::set<std::string> used;
  std::vector<std::string> missing;
  for (auto& item : model->named_parameters()) {
    const std::string& name = item.key();
    at::Tensor& param = item.value();
    auto it = tensors.find(name);
    if (it == tensors.end()) {
      missing.push_back(name);
      continue;
    }
    VECRL_CHECK(it->second.sizes() == param.sizes(), where, ": tensor '", name, "' has shape ", it->second.sizes(),
                ", the model expects ", param.sizes());
    param.copy_(it->second.to(param.dtype()));
    used.insert(name);
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    throw core::Error(core::str_cat(where, ": missing tensors: ", list));
  }
  for (const auto& [name, t] : tensors)
    VECRL_CHECK(used.count(name) || ignorable(name, model->config()), where, ": unexpected tensor '", name, "'");
}

CausalLM load_causal_lm(const std::string& model_dir) {
  const fs::path dir(model_dir);
  VECRL_CHECK(fs::is_directory(dir), model_dir, ": not a model folder");
  const ModelConfig config = ModelConfig::from_hf_json((dir / "config.json").string());
  CausalLM model(config);
  load_state(model, read_weights(dir), model_dir);
  return model;
}

}  // namespace vecrl::models
