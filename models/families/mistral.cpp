// Mistral: the Llama decoder; a sliding window is accepted only when it covers the whole context
// (as in Mistral 7B v0.2+ configs that set it to null or to the context length).
#include "models/model_config.h"

namespace vecrl::models {
namespace {

class Mistral : public ModelFamily {
 public:
  void read(const HfConfigReader& r, ModelConfig& c) const override {
    read_common_fields(r, c);
    const int64_t window = r.optional<int64_t>("sliding_window", 0);
    if (window > 0 && window < c.max_position_embeddings)
      r.unsupported("sliding_window", "sliding-window attention shorter than the context is not supported");
  }
  std::string architecture() const override { return "MistralForCausalLM"; }
};

VECRL_REGISTER(model_family_registry(), "mistral", [] { return std::make_unique<Mistral>(); });

}  // namespace
}  // namespace vecrl::models
