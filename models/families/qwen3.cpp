// Qwen3 (dense): the Llama decoder with a per-head RMSNorm on q and k before RoPE, an explicit
// head_dim, and optional q/k/v/o biases (attention_bias).
#include "models/model_config.h"

namespace vecrl::models {
namespace {

class Qwen3 : public ModelFamily {
 public:
  void read(const HfConfigReader& r, ModelConfig& c) const override {
    read_common_fields(r, c);
    c.qk_norm = true;
    c.attention_bias = r.optional<bool>("attention_bias", false);
    c.output_bias = c.attention_bias;  // transformers gives o_proj the same bias flag as q/k/v
    if (r.optional<bool>("use_sliding_window", false))
      r.unsupported("use_sliding_window", "sliding-window attention is not supported");
  }
  std::string architecture() const override { return "Qwen3ForCausalLM"; }
};

VECRL_REGISTER(model_family_registry(), "qwen3", [] { return std::make_unique<Qwen3>(); });

}  // namespace
}  // namespace vecrl::models
