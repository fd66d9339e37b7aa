#include "models/model_config.h"
#include "core/json_input.h"

#include <cmath>
#include <fstream>

#include "core/error.h"

namespace vecrl::models {

ModelFamilyRegistry& model_family_registry() {
  static ModelFamilyRegistry registry("model_type");
  return registry;
}

namespace {

// rope_theta from the top level or from transformers 5's "rope_parameters"; a rope_parameters
// vecrl cannot honour (per-layer-type parameters, partial rotary) is an error, not ignored, since
// a wrong base frequency loads a model that silently computes something else.
double read_rope_theta(const HfConfigReader& r) {
  const double top = r.optional<double>("rope_theta", 10000.0);
  if (!r.has("rope_parameters")) return top;
  const auto& params = r.json()["rope_parameters"];
  if (!params.is_object()) r.unsupported("rope_parameters", "expected an object");
  for (const auto& [key, value] : params.items())
    if (value.is_object()) r.unsupported("rope_parameters", "per-layer-type RoPE parameters are not supported");
  const HfConfigReader p(params, r.where() + ": rope_parameters");
  if (p.optional<double>("partial_rotary_factor", 1.0) != 1.0)
    r.unsupported("rope_parameters", "partial rotary embeddings are not supported");
  const double theta = p.optional<double>("rope_theta", top);
  VECRL_CHECK(!r.has("rope_theta") || theta == top, r.where(), ": rope_theta ", top,
              " disagrees with rope_parameters.rope_theta ", theta);
  return theta;
}

}  // namespace

RopeScalingField rope_scaling_field(const HfConfigReader& r) {
  for (const char* key : {"rope_scaling", "rope_parameters"}) {
    const bool legacy = key == std::string("rope_scaling");  // any value of it asks for a scaling
    if (!r.has(key)) continue;
    const auto& value = r.json()[key];
    if (!value.is_object()) {
      if (legacy) return {key, value, ""};
      continue;  // read_rope_theta reports a rope_parameters that is not an object
    }
    const HfConfigReader fields(value, r.where() + ": " + key);
    const std::string type = fields.optional<std::string>("rope_type", fields.optional<std::string>("type", "default"));
    if (legacy || type != "default") return {key, value, type};
  }
  return {};
}

void read_common_fields(const HfConfigReader& r, ModelConfig& c) {
  c.vocab_size = r.required<int64_t>("vocab_size");
  c.hidden_size = r.required<int64_t>("hidden_size");
  c.intermediate_size = r.required<int64_t>("intermediate_size");
  c.num_layers = r.required<int64_t>("num_hidden_layers");
  c.num_heads = r.required<int64_t>("num_attention_heads");
  c.num_kv_heads = r.optional<int64_t>("num_key_value_heads", c.num_heads);
  c.head_dim = r.optional<int64_t>("head_dim", c.num_heads > 0 ? c.hidden_size / c.num_heads : 0);
  c.max_position_embeddings = r.optional<int64_t>("max_position_embeddings", 2048);
  c.rms_norm_eps = r.optional<double>("rms_norm_eps", 1e-6);
  c.rope_theta = read_rope_theta(r);
  c.tie_word_embeddings = r.optional<bool>("tie_word_embeddings", false);
  c.bos_token_id = r.optional<int64_t>("bos_token_id", 1);
  c.eos_token_id = r.json().contains("eos_token_id") && r.json()["eos_token_id"].is_array()
                       ? r.json()["eos_token_id"][0].get<int64_t>()
                       : r.optional<int64_t>("eos_token_id", 2);
  if (r.optional<std::string>("hidden_act", "silu") != "silu") r.unsupported("hidden_act", "supported: silu");
  const auto scaling = rope_scaling_field(r);
  if (scaling.key != nullptr && c.rope_scaling.type.empty())
    r.unsupported(scaling.key, "this family supports no RoPE scaling");
}

ModelConfig ModelConfig::from_hf_json(const std::string& path) {
  ModelConfig c;
  c.raw = core::read_json_file(path);
  return from_hf_config(c.raw, path);
}

ModelConfig ModelConfig::from_hf_config(const nlohmann::json& json, const std::string& where) {
  ModelConfig c;
  c.raw = json;
  VECRL_CHECK(c.raw.is_object(), where, ": expected a JSON object");
  HfConfigReader reader(c.raw, where);
  c.model_type = reader.required<std::string>("model_type");
  VECRL_CHECK(model_family_registry().contains(c.model_type), where, ": unsupported model_type '", c.model_type,
              "' (supported: ", model_family_registry().joined_names(), ")");
  model_family_registry().create(c.model_type)->read(reader, c);
  c.validate(where);
  return c;
}

nlohmann::json ModelConfig::to_hf_json() const {
  nlohmann::json j = raw.is_object() ? raw : nlohmann::json::object();
  j["model_type"] = model_type;
  j["architectures"] = {model_family_registry().create(model_type)->architecture()};
  j["vocab_size"] = vocab_size;
  j["hidden_size"] = hidden_size;
  j["intermediate_size"] = intermediate_size;
  j["num_hidden_layers"] = num_layers;
  j["num_attention_heads"] = num_heads;
  j["num_key_value_heads"] = num_kv_heads;
  j["head_dim"] = head_dim;
  j["max_position_embeddings"] = max_position_embeddings;
  j["rms_norm_eps"] = rms_norm_eps;
  j["rope_theta"] = rope_theta;
  j["tie_word_embeddings"] = tie_word_embeddings;
  j["bos_token_id"] = bos_token_id;
  if (!j.contains("eos_token_id")) j["eos_token_id"] = eos_token_id;
  j["hidden_act"] = "silu";
  j["torch_dtype"] = "float32";  // the weights are written as the float32 masters
  if (j.contains("dtype")) j["dtype"] = "float32";  // transformers 5's name for it
  return j;
}

void ModelConfig::validate(const std::string& where) const {
  VECRL_CHECK(vocab_size > 0 && hidden_size > 0 && intermediate_size > 0 && num_layers > 0, where,
              ": sizes must be positive (vocab ", vocab_size, ", hidden ", hidden_size, ", intermediate ",
              intermediate_size, ", layers ", num_layers, ")");
  VECRL_CHECK(num_heads > 0 && num_kv_heads > 0 && num_heads % num_kv_heads == 0, where, ": num_attention_heads ",
              num_heads, " must be a positive multiple of num_key_value_heads ", num_kv_heads);
  VECRL_CHECK(head_dim > 0 && head_dim % 2 == 0, where, ": head_dim must be positive and even, got ", head_dim);
  // Far past any released model, and small enough that products of them cannot overflow: a config
  // beyond these is a mistake that would otherwise end in an allocation of hundreds of GB.
  VECRL_CHECK(vocab_size <= (1 << 24) && hidden_size <= (1 << 16) && intermediate_size <= (1 << 18) &&
                  num_layers <= 1024 && num_heads <= 1024 && head_dim <= 4096 && max_position_embeddings <= (1 << 24),
              where, ": a size is out of range (vocab ", vocab_size, " <= 16777216, hidden ", hidden_size,
              " <= 65536, intermediate ", intermediate_size, " <= 262144, layers ", num_layers, " <= 1024, heads ",
              num_heads, " <= 1024, head_dim ", head_dim, " <= 4096, max_position_embeddings ", max_position_embeddings,
              " <= 16777216)");
  VECRL_CHECK(max_position_embeddings > 0, where, ": max_position_embeddings must be positive, got ",
              max_position_embeddings);
  VECRL_CHECK(std::isfinite(rope_theta) && rope_theta > 0, where, ": rope_theta must be a positive number, got ",
              rope_theta);
  VECRL_CHECK(std::isfinite(rms_norm_eps) && rms_norm_eps > 0 && rms_norm_eps < 1, where,
              ": rms_norm_eps must be in (0, 1), got ", rms_norm_eps);
}

}  // namespace vecrl::models
