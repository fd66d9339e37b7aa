#include "models/model_presets.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <map>

#include "core/error.h"
#include "models/hf_export.h"
#include "models/model_config.h"
#include "models/transformer.h"

namespace vecrl::models {
namespace {

nlohmann::json qwen3_shape(int64_t hidden, int64_t intermediate, int64_t layers, int64_t heads, int64_t kv_heads,
                           int64_t head_dim) {
  return {{"model_type", "qwen3"},        {"architectures", {"Qwen3ForCausalLM"}},
          {"vocab_size", 151936},         {"hidden_size", hidden},
          {"intermediate_size", intermediate}, {"num_hidden_layers", layers},
          {"num_attention_heads", heads}, {"num_key_value_heads", kv_heads},
          {"head_dim", head_dim},         {"max_position_embeddings", 40960},
          {"rms_norm_eps", 1e-6},         {"rope_theta", 1000000.0},
          {"tie_word_embeddings", true},  {"attention_bias", false},
          {"hidden_act", "silu"},         {"bos_token_id", 151643},
          {"eos_token_id", 151645},       {"torch_dtype", "float32"}};
}

const std::map<std::string, nlohmann::json>& presets() {
  static const std::map<std::string, nlohmann::json> table = [] {
    std::map<std::string, nlohmann::json> t;
    t["qwen3-tiny"] = qwen3_shape(64, 128, 2, 4, 2, 16);
    t["qwen3-50m"] = qwen3_shape(256, 768, 8, 4, 2, 64);  // 45M parameters, 39M of them the embedding
    t["qwen3-500m"] = qwen3_shape(1024, 3072, 28, 16, 8, 128);  // Qwen3-0.6B
    // llama2.c's 42M TinyStories shape (random weights): other implementations publish figures for it.
    t["llama-42m"] = {{"model_type", "llama"},
                      {"architectures", {"LlamaForCausalLM"}},
                      {"vocab_size", 32000},
                      {"hidden_size", 512},
                      {"intermediate_size", 1376},
                      {"num_hidden_layers", 8},
                      {"num_attention_heads", 8},
                      {"num_key_value_heads", 8},
                      {"max_position_embeddings", 1024},
                      {"rms_norm_eps", 1e-5},
                      {"rope_theta", 10000.0},
                      {"tie_word_embeddings", true},
                      {"hidden_act", "silu"},
                      {"bos_token_id", 1},
                      {"eos_token_id", 2},
                      {"torch_dtype", "float32"}};
    t["llama-1b"] = {{"model_type", "llama"},
                     {"architectures", {"LlamaForCausalLM"}},
                     {"vocab_size", 128256},
                     {"hidden_size", 2048},
                     {"intermediate_size", 8192},
                     {"num_hidden_layers", 16},
                     {"num_attention_heads", 32},
                     {"num_key_value_heads", 8},
                     {"head_dim", 64},
                     {"max_position_embeddings", 131072},
                     {"rms_norm_eps", 1e-5},
                     {"rope_theta", 500000.0},
                     {"rope_scaling",
                      {{"rope_type", "llama3"},
                       {"factor", 32.0},
                       {"low_freq_factor", 1.0},
                       {"high_freq_factor", 4.0},
                       {"original_max_position_embeddings", 8192}}},
                     {"tie_word_embeddings", true},
                     {"hidden_act", "silu"},
                     {"bos_token_id", 128000},
                     {"eos_token_id", 128001},
                     {"torch_dtype", "float32"}};
    return t;
  }();
  return table;
}

}  // namespace

std::vector<std::string> model_preset_names() {
  std::vector<std::string> names;
  for (const auto& [name, config] : presets()) names.push_back(name);
  return names;
}

nlohmann::json model_preset_config(const std::string& name) {
  const auto it = presets().find(name);
  if (it == presets().end()) {
    std::string known;
    for (const auto& n : model_preset_names()) known += (known.empty() ? "" : ", ") + n;
    VECRL_CHECK(false, "unknown model preset '", name, "' (known: ", known, ")");
  }
  return it->second;
}

CausalLM random_model(const std::string& preset, uint64_t seed, double init_std) {
  CausalLM model(ModelConfig::from_hf_config(model_preset_config(preset), "model preset " + preset));
  torch::manual_seed(seed);
  torch::NoGradGuard no_grad;
  for (auto& item : model->named_parameters()) {
    auto& p = item.value();
    const auto& name = item.key();
    if (name.find("norm") != std::string::npos) p.fill_(1.0);  // RMSNorm gains
    else if (name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0) p.zero_();
    else p.normal_(0.0, init_std);
  }
  return model;
}

void write_random_model(const std::string& preset, const std::string& out_dir, const std::string& tokenizer_dir,
                        uint64_t seed, double init_std) {
  auto model = random_model(preset, seed, init_std);
  save_hf_model(model, out_dir, tokenizer_dir);
}

}  // namespace vecrl::models
