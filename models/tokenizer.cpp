#include "models/tokenizer.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "core/error.h"
#include "models/tokenizer_files.h"

namespace vecrl::models {
namespace fs = std::filesystem;

int64_t Tokenizer::token_id(const std::string& piece) const {
  for (int64_t id = 0; id < vocab_size(); ++id)
    if (id_to_piece(id) == piece) return id;
  return -1;
}

std::vector<int64_t> encode_prompt(const Tokenizer& tokenizer, const std::string& text, bool add_bos) {
  std::vector<int64_t> ids;
  if (add_bos && tokenizer.bos_id() >= 0) ids.push_back(tokenizer.bos_id());
  const auto body = tokenizer.encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  return ids;
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path) {
  const fs::path p(path);
  if (fs::is_directory(p)) {
    const bool has_spm = fs::is_regular_file(p / "tokenizer.model");
    if (fs::is_regular_file(p / "tokenizer.json")) {
      try {
        return load_hf_tokenizer_json((p / "tokenizer.json").string(), (p / "tokenizer_config.json").string());
      } catch (const core::Error& e) {
        // Llama-2 and Mistral folders ship a sentencepiece-style tokenizer.json (Metaspace,
        // byte_fallback) beside the tokenizer.model it was made from: use the real one.
        if (!has_spm) throw;
        spdlog::info("{}: {}; using tokenizer.model", path, e.what());
      }
    }
    if (has_spm) return load_sentencepiece_model((p / "tokenizer.model").string());
    if (fs::is_regular_file(p / "encoder.json") && fs::is_regular_file(p / "vocab.bpe"))
      return load_gpt2_vocab_files((p / "encoder.json").string(), (p / "vocab.bpe").string());
    VECRL_CHECK(false, path,
                ": no tokenizer found (expected tokenizer.json, tokenizer.model, or encoder.json with vocab.bpe)");
  }
  VECRL_CHECK(fs::is_regular_file(p), path, ": no such tokenizer file or model folder");
  if (p.extension() == ".model") return load_sentencepiece_model(p.string());
  if (p.filename() == "encoder.json") return load_gpt2_vocab_files(p.string(), (p.parent_path() / "vocab.bpe").string());
  if (p.extension() == ".json") return load_hf_tokenizer_json(p.string(), (p.parent_path() / "tokenizer_config.json").string());
  VECRL_CHECK(false, path, ": unknown tokenizer file (expected tokenizer.json, a sentencepiece .model, or encoder.json)");
  return nullptr;
}

}  // namespace vecrl::models
