#include "models/hf_checkpoint.h"
#include "core/json_input.h"

#include <torch/types.h>

#include <algorithm>
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
  const nlohmann::json j = core::read_json_file(index.string());
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

void load_state(CausalLM& model, const std::map<std::string, at::Tensor>& tensors, const std::string& where,
                const std::function<bool(const std::string&)>& selected) {
  torch::NoGradGuard no_grad;
  std::set<std::string> used;
  std::vector<std::string> missing;
  for (auto& item : model->named_parameters()) {
    const std::string& name = item.key();
    if (selected && !selected(name)) continue;
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
  auto quoted_list = [](const std::vector<std::string>& names, const char* quote) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + std::string(quote) + n + quote;
    return list;
  };
  if (!missing.empty()) throw core::Error(core::str_cat(where, ": missing tensors: ", quoted_list(missing, "")));
  std::vector<std::string> unexpected;
  for (const auto& [name, t] : tensors)
    if (!used.count(name) && (selected || !ignorable(name, model->config()))) unexpected.push_back(name);
  VECRL_CHECK(unexpected.empty(), where, ": unexpected tensor", unexpected.size() > 1 ? "s " : " ",
              quoted_list(unexpected, "'"));
}

namespace {

// config.json against the weights it comes with, before the model is allocated: a config that
// claims more than its weights hold (vocab_size 10^9, 10^9 layers) would otherwise allocate first
// and fail (or crash) after. Tensors that are absent are load_state's to report.
void check_config_against_weights(const ModelConfig& c, const std::map<std::string, at::Tensor>& weights,
                                  const std::string& where) {
  auto expect_shape = [&](const std::string& name, std::vector<int64_t> shape, const char* fields) {
    const auto it = weights.find(name);
    if (it == weights.end()) return;
    VECRL_CHECK(it->second.sizes().vec() == shape, where, "/config.json: ", fields, " say ", name, " is ", at::IntArrayRef(shape),
                ", the weights hold ", it->second.sizes());
  };
  expect_shape("model.embed_tokens.weight", {c.vocab_size, c.hidden_size}, "vocab_size and hidden_size");
  expect_shape("model.layers.0.mlp.gate_proj.weight", {c.intermediate_size, c.hidden_size},
               "intermediate_size and hidden_size");
  int64_t layers = 0;
  const std::string prefix = "model.layers.";
  for (const auto& [name, tensor] : weights) {
    if (name.rfind(prefix, 0) != 0) continue;
    const auto end = name.find('.', prefix.size());
    const std::string index = name.substr(prefix.size(), end - prefix.size());
    if (!index.empty() && index.size() <= 6 && index.find_first_not_of("0123456789") == std::string::npos)
      layers = std::max<int64_t>(layers, std::stoll(index) + 1);
  }
  VECRL_CHECK(layers == 0 || layers == c.num_layers, where, "/config.json: num_hidden_layers is ", c.num_layers,
              ", the weights hold ", layers, " layers");
}

}  // namespace

CausalLM load_causal_lm(const std::string& model_dir) {
  const fs::path dir(model_dir);
  VECRL_CHECK(fs::is_directory(dir), model_dir, ": not a model folder");
  const ModelConfig config = ModelConfig::from_hf_json((dir / "config.json").string());
  auto weights = read_weights(dir);
  check_config_against_weights(config, weights, model_dir);
  return core::naming_allocation_failure(
      [&] { return core::str_cat(model_dir, " (", config.num_layers, " layers of width ", config.hidden_size, ")"); },
      [&] {
        CausalLM model(config);
        load_state(model, weights, model_dir);
        return model;
      });
}

std::string weights_fingerprint(const std::string& model_dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(model_dir))
    if (entry.path().extension() == ".safetensors") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  VECRL_CHECK(!files.empty(), model_dir, ": no .safetensors weights to fingerprint");
  uint64_t hash = 14695981039346656037ULL;
  auto mix = [&](const char* data, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) hash = (hash ^ static_cast<unsigned char>(data[i])) * 1099511628211ULL;
  };
  constexpr uint64_t kChunk = 64 << 10, kChunks = 16;
  std::vector<char> buffer(kChunk);
  for (const auto& f : files) {
    const std::string name = f.filename().string();
    const uint64_t size = fs::file_size(f);
    mix(name.data(), name.size());
    mix(reinterpret_cast<const char*>(&size), sizeof(size));
    std::ifstream in(f, std::ios::binary);
    for (uint64_t c = 0; c < kChunks; ++c) {
      const uint64_t offset = size <= kChunk ? 0 : (size - kChunk) * c / (kChunks - 1);
      in.seekg(static_cast<std::streamoff>(offset));
      in.read(buffer.data(), static_cast<std::streamsize>(std::min(kChunk, size)));
      mix(buffer.data(), static_cast<std::size_t>(in.gcount()));
      in.clear();
    }
  }
  char hex[32];
  std::snprintf(hex, sizeof(hex), "fnv64:%016llx", static_cast<unsigned long long>(hash));
  return hex;
}

}  // namespace vecrl::models
