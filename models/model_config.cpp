#include "models/model_config.h"

#include <nlohmann/json.hpp>

#include <fstream>

#include "core/error.h"

namespace vecrl::models {
namespace {

template <class T>
T required(const nlohmann::json& j, const char* key, const std::string& where) {
  VECRL_CHECK(j.contains(key) && !j[key].is_null(), where, ": missing field '", key, "'");
  try {
    return j[key].get<T>();
  } catch (const nlohmann::json::exception&) {
    throw core::Error(core::str_cat(where, ": field '", key, "' has the wrong type: ", j[key].dump()));
  }
}

template <class T>
T optional(const nlohmann::json& j, const char* key, T fallback, const std::string& where) {
  return j.contains(key) && !j[key].is_null() ? required<T>(j, key, where) : fallback;
}

}  // namespace

ModelConfig ModelConfig::from_hf_json(const std::string& path) {
  std::ifstream in(path);
  VECRL_CHECK(in, path, ": cannot open model config");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw core::Error(core::str_cat(path, ": not valid JSON: ", e.what()));
  }
  ModelConfig c;
  c.model_type = required<std::string>(j, "model_type", path);
  VECRL_CHECK(c.model_type == "llama", path, ": unsupported model_type '", c.model_type, "' (supported: llama)");
  VECRL_CHECK(!j.contains("rope_scaling") || j["rope_scaling"].is_null(), path,
              ": unsupported field 'rope_scaling' = ", j.contains("rope_scaling") ? j["rope_scaling"].dump() : "");
  VECRL_CHECK(optional<std::string>(j, "hidden_act", "silu", path) == "silu", path,
              ": unsupported hidden_act '", j["hidden_act"].get<std::string>(), "' (supported: silu)");
  VECRL_CHECK(!optional<bool>(j, "attention_bias", false, path), path, ": unsupported attention_bias = true");
  c.vocab_size = required<int64_t>(j, "vocab_size", path);
  c.hidden_size = required<int64_t>(j, "hidden_size", path);
  c.intermediate_size = required<int64_t>(j, "intermediate_size", path);
  c.num_layers = required<int64_t>(j, "num_hidden_layers", path);
  c.num_heads = required<int64_t>(j, "num_attention_heads", path);
  c.num_kv_heads = optional<int64_t>(j, "num_key_value_heads", c.num_heads, path);
  c.head_dim = optional<int64_t>(j, "head_dim", c.num_heads > 0 ? c.hidden_size / c.num_heads : 0, path);
  c.max_position_embeddings = optional<int64_t>(j, "max_position_embeddings", 2048, path);
  c.rms_norm_eps = optional<double>(j, "rms_norm_eps", 1e-6, path);
  c.rope_theta = optional<double>(j, "rope_theta", 10000.0, path);
  c.tie_word_embeddings = optional<bool>(j, "tie_word_embeddings", false, path);
  c.bos_token_id = optional<int64_t>(j, "bos_token_id", 1, path);
  c.eos_token_id = optional<int64_t>(j, "eos_token_id", 2, path);
  c.validate(path);
  return c;
}

void ModelConfig::validate(const std::string& where) const {
  VECRL_CHECK(vocab_size > 0 && hidden_size > 0 && intermediate_size > 0 && num_layers > 0, where,
              ": sizes must be positive (vocab ", vocab_size, ", hidden ", hidden_size, ", intermediate ",
              intermediate_size, ", layers ", num_layers, ")");
  VECRL_CHECK(num_heads > 0 && num_kv_heads > 0 && num_heads % num_kv_heads == 0, where, ": num_attention_heads ",
              num_heads, " must be a positive multiple of num_key_value_heads ", num_kv_heads);
  VECRL_CHECK(head_dim > 0 && head_dim % 2 == 0, where, ": head_dim must be positive and even, got ", head_dim);
}

}  // namespace vecrl::models
