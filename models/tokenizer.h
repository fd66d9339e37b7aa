#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vecrl::models {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Ids of `text` with no BOS/EOS added.
  virtual std::vector<int64_t> encode(const std::string& text) const = 0;
  // Text of `ids`; control tokens (BOS, EOS, pad) are dropped.
  virtual std::string decode(const std::vector<int64_t>& ids) const = 0;
  virtual std::string id_to_piece(int64_t id) const = 0;
  virtual int64_t vocab_size() const = 0;
  virtual int64_t bos_id() const = 0;  // -1 when the model has none (Qwen)
  virtual int64_t eos_id() const = 0;
  // The id of a token spelled exactly `piece` (as id_to_piece writes it), or -1.
  virtual int64_t token_id(const std::string& piece) const;
};

// A prompt's ids: BOS (when add_bos and the model has one) followed by encode(text).
std::vector<int64_t> encode_prompt(const Tokenizer& tokenizer, const std::string& text, bool add_bos);

// Picks the tokenizer by the files present. A folder: tokenizer.json (HF byte-level BPE, with
// tokenizer_config.json beside it for the BOS/EOS names), else tokenizer.model (sentencepiece), else
// GPT-2's encoder.json + vocab.bpe. A file: tokenizer.json, a sentencepiece .model, or encoder.json.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path);

}  // namespace vecrl::models
