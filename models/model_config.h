#pragma once
// Decoder hyper-parameters read from a HuggingFace config.json. Each model family (llama, mistral,
// qwen2, qwen3) is one file under models/families/ that reads its own fields, registered by
// model_type; they all build the same decoder (transformer.h).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/registry.h"

namespace vecrl::models {

struct RopeScaling {
  std::string type;  // "" (none) or "llama3"
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
};

struct ModelConfig {
  std::string model_type = "llama";
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t max_position_embeddings = 2048;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // q/k/v projections with bias (qwen2; llama and qwen3 when attention_bias)
  bool output_bias = false;     // o_proj with bias too (llama and qwen3 when attention_bias; never qwen2)
  bool qk_norm = false;         // per-head RMSNorm of q and k (qwen3)
  int64_t bos_token_id = 1;
  int64_t eos_token_id = 2;
  nlohmann::json raw;  // the config.json as read (written back on export)

  // Reads config.json and dispatches on model_type. Throws naming the file and field for a missing,
  // mistyped or unsupported field or model_type.
  static ModelConfig from_hf_json(const std::string& config_json_path);
  // The same from a parsed config.json; `where` names it in errors.
  static ModelConfig from_hf_config(const nlohmann::json& json, const std::string& where);
  // The config.json to write for this config (the original fields, updated).
  nlohmann::json to_hf_json() const;
  void validate(const std::string& where) const;
};

// Reads a config.json field with a message naming the file and key.
class HfConfigReader {
 public:
  HfConfigReader(const nlohmann::json& json, std::string where) : j_(json), where_(std::move(where)) {}
  template <class T>
  T required(const char* key) const {
    if (!j_.contains(key) || j_[key].is_null()) throw core::Error(core::str_cat(where_, ": missing field '", key, "'"));
    return get<T>(key);
  }
  template <class T>
  T optional(const char* key, T fallback) const {
    return j_.contains(key) && !j_[key].is_null() ? get<T>(key) : fallback;
  }
  bool has(const char* key) const { return j_.contains(key) && !j_[key].is_null(); }
  const nlohmann::json& json() const { return j_; }
  const std::string& where() const { return where_; }
  [[noreturn]] void unsupported(const char* key, const std::string& why) const {
    throw core::Error(core::str_cat(where_, ": unsupported field '", key, "' = ", j_[key].dump(), " (", why, ")"));
  }

 private:
  template <class T>
  T get(const char* key) const {
    try {
      return j_[key].get<T>();
    } catch (const nlohmann::json::exception&) {
      throw core::Error(core::str_cat(where_, ": field '", key, "' has the wrong type: ", j_[key].dump()));
    }
  }
  const nlohmann::json& j_;
  std::string where_;
};

// A model family: fills the family-specific parts of a ModelConfig after the shared fields.
class ModelFamily {
 public:
  virtual ~ModelFamily() = default;
  virtual void read(const HfConfigReader& reader, ModelConfig& config) const = 0;
  // HF class name written into "architectures" on export.
  virtual std::string architecture() const = 0;
};

using ModelFamilyRegistry = core::Registry<ModelFamily>;
ModelFamilyRegistry& model_family_registry();

// Shared by the Llama-like families: the common fields every family reads. A RoPE scaling in the
// config is an error unless the family has already read it into config.rope_scaling.
void read_common_fields(const HfConfigReader& reader, ModelConfig& config);

// The RoPE scaling a config asks for, where it is written: "rope_scaling" (transformers 4) or a
// "rope_parameters" whose rope_type is not "default" (transformers 5, which also moved rope_theta
// there). key is nullptr when the config asks for none.
struct RopeScalingField {
  const char* key = nullptr;
  nlohmann::json value;
  std::string type;  // its rope_type (or legacy "type"), "default" when it names none
};
RopeScalingField rope_scaling_field(const HfConfigReader& reader);

}  // namespace vecrl::models
