#pragma once
#include <cstdint>
#include <string>

namespace vecrl::models {

// Decoder hyper-parameters, read from a HuggingFace config.json.
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
  bool tie_word_embeddings = false;
  int64_t bos_token_id = 1;
  int64_t eos_token_id = 2;

  // Throws naming the file and field for a missing or unsupported field.
  static ModelConfig from_hf_json(const std::string& config_json_path);
  void validate(const std::string& where) const;
};

}  // namespace vecrl::models
