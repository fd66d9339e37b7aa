#pragma once
// Named model shapes with random weights, for benchmarks and tests without a download: the
// config.json of each (HF layout) and a randomly initialised model of it.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/transformer.h"

namespace vecrl::models {

// qwen3-tiny (tests), qwen3-50m, qwen3-500m (Qwen3-0.6B's shape), llama-1b (Llama-3.2-1B's shape).
std::vector<std::string> model_preset_names();
nlohmann::json model_preset_config(const std::string& name);

// A model of the preset in memory, weights drawn N(0, init_std) (norms at 1, biases 0), seeded.
CausalLM random_model(const std::string& preset, uint64_t seed, double init_std = 0.02);

// Writes a HF model folder of the preset with weights drawn N(0, init_std) (norms at 1), seeded,
// and the tokenizer files of `tokenizer_dir` (may be empty).
void write_random_model(const std::string& preset, const std::string& out_dir, const std::string& tokenizer_dir,
                        uint64_t seed, double init_std = 0.02);

}  // namespace vecrl::models
