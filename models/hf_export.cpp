#include "models/hf_export.h"

#include <torch/types.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/safetensors.h"
#include "models/lora.h"

namespace vecrl::models {
namespace fs = std::filesystem;

void save_hf_model(CausalLM& model, const std::string& out_dir, const std::string& tokenizer_source_dir,
                   const ExportOptions& options) {
  VECRL_CHECK(options.max_shard_bytes > 0, "export: max_shard_bytes must be > 0");
  fs::create_directories(out_dir);
  const fs::path out(out_dir);
  // Shards in parameter order, each at most max_shard_bytes (a larger single tensor gets its own).
  std::vector<std::map<std::string, at::Tensor>> shards(1);
  int64_t shard_bytes = 0, total = 0;
  // A LoRA model is written merged: a plain HF model (models/peft.h writes the adapters alone).
  for (const auto& [name, value] : merged_state(model)) {
    auto t = value.to(torch::kCPU).contiguous();
    const int64_t bytes = t.numel() * static_cast<int64_t>(t.element_size());
    if (shard_bytes > 0 && shard_bytes + bytes > options.max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().emplace(name, t);
    shard_bytes += bytes;
    total += bytes;
  }
  for (const auto& old : fs::directory_iterator(out))  // stale weights of an earlier export
    if (old.path().extension() == ".safetensors" || old.path().filename() == "model.safetensors.index.json")
      fs::remove(old.path());
  if (shards.size() == 1) {
    core::write_safetensors((out / "model.safetensors").string(), shards[0], {{"format", "pt"}});
  } else {
    nlohmann::json index = {{"metadata", {{"total_size", total}}}, {"weight_map", nlohmann::json::object()}};
    for (std::size_t i = 0; i < shards.size(); ++i) {
      char name[64];
      std::snprintf(name, sizeof(name), "model-%05zu-of-%05zu.safetensors", i + 1, shards.size());
      core::write_safetensors((out / name).string(), shards[i], {{"format", "pt"}});
      for (const auto& [tensor, t] : shards[i]) index["weight_map"][tensor] = name;
    }
    std::ofstream(out / "model.safetensors.index.json") << index.dump(2);
  }
  const auto& c = model->config();
  std::ofstream(out / "config.json") << c.to_hf_json().dump(2);
  nlohmann::json generation = {{"bos_token_id", c.bos_token_id}, {"eos_token_id", c.eos_token_id}};
  std::ofstream(out / "generation_config.json") << generation.dump(2);
  if (!tokenizer_source_dir.empty())
    for (const char* f : {"tokenizer.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                          "vocab.json", "merges.txt"})
      if (fs::exists(fs::path(tokenizer_source_dir) / f) && fs::path(tokenizer_source_dir) != out) {
        fs::copy_file(fs::path(tokenizer_source_dir) / f, out / f, fs::copy_options::overwrite_existing);
        // A read-only source (a shared dataset folder) must not make the copy read-only too.
        fs::permissions(out / f, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::add);
      }
}

}  // namespace vecrl::models
