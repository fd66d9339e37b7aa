// Qwen2 / Qwen2.5: the Llama decoder with biases on the q, k and v projections.
#include "models/model_config.h"

namespace vecrl::models {
namespace {

class Qwen2 : public ModelFamily {
 public:
  void read(const HfConfigReader& r, ModelConfig& c) const override {
    read_common_fields(r, c);
    c.attention_bias = true;
    if (r.optional<bool>("use_sliding_window", false))
      r.unsupported("use_sliding_window", "sliding-window attention is not supported");
  }
  std::string architecture() const override { return "Qwen2ForCausalLM"; }
};

VECRL_REGISTER(model_family_registry(), "qwen2", [] { return std::make_unique<Qwen2>(); });

}  // namespace
}  // namespace vecrl::models
