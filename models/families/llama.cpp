// Llama (1/2/3): the base decoder, with the optional "llama3" RoPE scaling of Llama 3.1+.
#include "models/model_config.h"

namespace vecrl::models {
namespace {

class Llama : public ModelFamily {
 public:
  void read(const HfConfigReader& r, ModelConfig& c) const override {
    if (const auto scaling = rope_scaling_field(r); scaling.key != nullptr) {
      const HfConfigReader s(scaling.value, r.where() + ": " + scaling.key);
      if (scaling.type != "llama3") r.unsupported(scaling.key, "supported rope_type: llama3");
      c.rope_scaling.type = scaling.type;
      c.rope_scaling.factor = s.optional<double>("factor", 8.0);
      c.rope_scaling.low_freq_factor = s.optional<double>("low_freq_factor", 1.0);
      c.rope_scaling.high_freq_factor = s.optional<double>("high_freq_factor", 4.0);
      c.rope_scaling.original_max_position_embeddings =
          s.optional<int64_t>("original_max_position_embeddings", int64_t{8192});
    }
    read_common_fields(r, c);
    c.attention_bias = r.optional<bool>("attention_bias", false);
    c.output_bias = c.attention_bias;  // transformers gives o_proj the same bias flag as q/k/v
    if (r.optional<bool>("mlp_bias", false)) r.unsupported("mlp_bias", "MLP biases are not supported");
  }
  std::string architecture() const override { return "LlamaForCausalLM"; }
};

VECRL_REGISTER(model_family_registry(), "llama", [] { return std::make_unique<Llama>(); });

}  // namespace
}  // namespace vecrl::models
