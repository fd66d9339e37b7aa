#pragma once
// Writes a model as a HuggingFace folder that transformers' AutoModelForCausalLM and vLLM load:
// config.json, model.safetensors (or model-0000k-of-0000n.safetensors shards with
// model.safetensors.index.json above max_shard_bytes), generation_config.json, and the tokenizer
// files copied from the source model folder.
#include <cstdint>
#include <string>

#include "models/transformer.h"

namespace vecrl::models {

struct ExportOptions {
  int64_t max_shard_bytes = int64_t{5} << 30;  // HF's default 5 GB
};

void save_hf_model(CausalLM& model, const std::string& out_dir, const std::string& tokenizer_source_dir,
                   const ExportOptions& options = {});

}  // namespace vecrl::models
