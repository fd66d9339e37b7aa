#pragma once
// Byte-level BPE (GPT-2, Qwen2/Qwen3, Llama-3): what a tokenizer file describes, independent of the
// file format (tokenizer.json, or GPT-2's encoder.json + vocab.bpe); see tokenizer_files.cpp.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "models/tokenizer.h"

namespace vecrl::models {

// GPT-2's pre-tokenizer split (the `use_regex` of a ByteLevel pre-tokenizer).
inline constexpr const char* kGpt2SplitPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

struct AddedToken {
  std::string content;
  int64_t id = -1;
  bool special = true;       // dropped by decode
  bool lstrip = false;       // absorbs the whitespace on its left
  bool rstrip = false;       // absorbs the whitespace on its right
  bool single_word = false;  // matches only between non-word characters
};

struct BpeSpec {
  std::string source;  // the file, for error messages
  // Tokens as the file spells them: bytes mapped to printable characters (GPT-2's byte map).
  std::vector<std::pair<std::string, int64_t>> vocab;
  std::vector<std::pair<std::string, std::string>> merges;  // in priority order
  std::string unicode_normalization;                         // "", "NFC", "NFKC", "NFD" or "NFKD"
  std::vector<std::string> split_patterns;                   // applied in turn, each "Isolated"
  bool add_prefix_space = false;
  bool ignore_merges = false;  // a whole pre-token found in the vocabulary is one token (Llama-3)
  std::vector<AddedToken> added_tokens;
  std::string bos_token, eos_token, pad_token;  // contents; empty when the model has none
};

std::unique_ptr<Tokenizer> make_bpe_tokenizer(BpeSpec spec);

// Text whose invalid UTF-8 sequences are each replaced by U+FFFD (as Rust's from_utf8_lossy).
std::string utf8_lossy(const std::string& bytes);

}  // namespace vecrl::models
