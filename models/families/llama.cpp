// Llama (1/2/3): the base decoder, with the optional "llama3" RoPE scaling of Llama 3.1+.
#include "models/model_config.h"

namespace vecrl::models {
namespace {

class Llama : public ModelFamily {
 public:
  void read(const HfConfigReader& r, ModelConfig& c) const override {
    nlohmann::json rest = r.json();
    rest.erase("rope_scaling");
    read_common_fields(HfConfigReader(rest, r.where()), c);
    c.attention_bias = r.optional<bool>("attention_bias", false);
    if (r.optional<bool>("mlp_bias", false)) r.unsupported("mlp_bias", "MLP biases are not supported");
    if (!r.has("rope_scaling")) return;
    const auto& s = r.json()["rope_scaling"];
    const std::string type = s.value("rope_type", s.value("type", std::string()));
    if (type != "llama3") r.unsupported("rope_scaling", "supported rope_type: llama3");
    c.rope_scaling.type = type;
    c.rope_scaling.factor = s.value("factor", 8.0);
    c.rope_scaling.low_freq_factor = s.value("low_freq_factor", 1.0);
    c.rope_scaling.high_freq_factor = s.value("high_freq_factor", 4.0);
    c.rope_scaling.original_max_position_embeddings = s.value("original_max_position_embeddings", int64_t{8192});
  }
  std::string architecture() const override { return "LlamaForCausalLM"; }
};

VECRL_REGISTER(model_family_registry(), "llama", [] { return std::make_unique<Llama>(); });

}  // namespace
}  // namespace vecrl::models
