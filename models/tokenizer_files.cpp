// Reads byte-level BPE tokenizers from HF tokenizer.json and from GPT-2's original files into a
// BpeSpec. Every component of tokenizer.json that is not implemented is an error naming it, so a
// tokenizer never silently encodes differently from HF.
#include "models/tokenizer_files.h"
#include "core/json_input.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "models/bpe_tokenizer.h"

namespace vecrl::models {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

json read_json(const std::string& path) {
  return core::read_json_file(path);
}

std::string type_of(const json& node, const std::string& where) {
  VECRL_CHECK(node.is_object() && node.contains("type") && node["type"].is_string(), where,
              ": expected an object with a \"type\", found ", node.dump().substr(0, 200));
  return node["type"].get<std::string>();
}

void read_normalizer(const json& node, const std::string& where, BpeSpec& spec) {
  if (node.is_null()) return;
  const auto type = type_of(node, where);
  if (type == "Sequence") {
    for (const auto& part : node.at("normalizers")) read_normalizer(part, where, spec);
    return;
  }
  VECRL_CHECK(type == "NFC" || type == "NFKC" || type == "NFD" || type == "NFKD", where, ": normalizer type '", type,
              "' is not supported (supported: NFC, NFKC, NFD, NFKD, Sequence)");
  VECRL_CHECK(spec.unicode_normalization.empty(), where, ": more than one Unicode normalizer");
  spec.unicode_normalization = type;
}

// Returns whether a ByteLevel step was present (the tokenizer is byte-level only then).
bool read_pre_tokenizer(const json& node, const std::string& where, BpeSpec& spec) {
  if (node.is_null()) return false;
  const auto type = type_of(node, where);
  if (type == "Sequence") {
    bool byte_level = false;
    for (const auto& part : node.at("pretokenizers")) byte_level = read_pre_tokenizer(part, where, spec) || byte_level;
    return byte_level;
  }
  if (type == "ByteLevel") {
    spec.add_prefix_space = node.value("add_prefix_space", false);
    if (node.value("use_regex", true)) spec.split_patterns.push_back(kGpt2SplitPattern);
    return true;
  }
  if (type == "Split") {
    const auto behavior = node.value("behavior", std::string("Isolated"));
    VECRL_CHECK(behavior == "Isolated" && !node.value("invert", false), where, ": Split pre-tokenizer with behavior '",
                behavior, "' and invert ", node.value("invert", false), " is not supported (only Isolated, not inverted)");
    const auto& pattern = node.at("pattern");
    if (pattern.contains("Regex")) {
      spec.split_patterns.push_back(pattern["Regex"].get<std::string>());
    } else {
      // A literal string: quoted so PCRE2 matches it as it is.
      spec.split_patterns.push_back("\\Q" + pattern.at("String").get<std::string>() + "\\E");
    }
    return false;
  }
  VECRL_CHECK(false, where, ": pre-tokenizer type '", type, "' is not supported (supported: ByteLevel, Split, Sequence)");
  return false;
}

// tokenizer_config.json writes special tokens as a string, or as an object with "content", or null.
std::string token_content(const json& config, const char* key) {
  if (!config.contains(key) || config[key].is_null()) return "";
  const auto& value = config[key];
  if (value.is_string()) return value.get<std::string>();
  return value.value("content", std::string());
}

}  // namespace

std::unique_ptr<Tokenizer> load_hf_tokenizer_json(const std::string& tokenizer_json, const std::string& config_file) {
  const json file = read_json(tokenizer_json);
  BpeSpec spec;
  spec.source = tokenizer_json;
  try {
    const auto& model = file.at("model");
    const auto model_type = type_of(model, tokenizer_json + ": model");
    VECRL_CHECK(model_type == "BPE", tokenizer_json, ": model type '", model_type,
                "' is not supported (byte-level BPE only; sentencepiece models load from tokenizer.model)");
    VECRL_CHECK(model.value("continuing_subword_prefix", json()).is_null() || model["continuing_subword_prefix"] == "",
                tokenizer_json, ": model.continuing_subword_prefix is not supported");
    VECRL_CHECK(model.value("end_of_word_suffix", json()).is_null() || model["end_of_word_suffix"] == "", tokenizer_json,
                ": model.end_of_word_suffix is not supported");
    VECRL_CHECK(!model.value("byte_fallback", false), tokenizer_json,
                ": model.byte_fallback is set (a sentencepiece-style BPE); only byte-level BPE is supported");
    spec.ignore_merges = model.value("ignore_merges", false);
    for (const auto& [token, id] : model.at("vocab").items()) spec.vocab.emplace_back(token, id.get<int64_t>());
    for (const auto& merge : model.at("merges")) {
      if (merge.is_array()) {
        VECRL_CHECK(merge.size() == 2, tokenizer_json, ": a merge has ", merge.size(), " parts: ", merge.dump());
        spec.merges.emplace_back(merge[0].get<std::string>(), merge[1].get<std::string>());
      } else {
        const auto text = merge.get<std::string>();
        const auto space = text.find(' ', 1);
        VECRL_CHECK(space != std::string::npos, tokenizer_json, ": merge '", text, "' is not two tokens");
        spec.merges.emplace_back(text.substr(0, space), text.substr(space + 1));
      }
    }
    read_normalizer(file.value("normalizer", json()), tokenizer_json + ": normalizer", spec);
    VECRL_CHECK(read_pre_tokenizer(file.value("pre_tokenizer", json()), tokenizer_json + ": pre_tokenizer", spec),
                tokenizer_json, ": the pre-tokenizer has no ByteLevel step; only byte-level BPE is supported");
    const auto decoder = file.value("decoder", json());
    VECRL_CHECK(decoder.is_null() || type_of(decoder, tokenizer_json + ": decoder") == "ByteLevel", tokenizer_json,
                ": decoder type '", decoder.value("type", std::string()), "' is not supported (ByteLevel only)");
    for (const auto& added : file.value("added_tokens", json::array())) {
      spec.added_tokens.push_back({added.at("content").get<std::string>(), added.at("id").get<int64_t>(),
                                   added.value("special", false), added.value("lstrip", false),
                                   added.value("rstrip", false), added.value("single_word", false)});
    }
  } catch (const json::exception& e) {
    throw core::Error(core::str_cat(tokenizer_json, ": unexpected structure: ", e.what()));
  }
  if (fs::is_regular_file(config_file)) {
    const json config = read_json(config_file);
    spec.bos_token = token_content(config, "bos_token");
    spec.eos_token = token_content(config, "eos_token");
    spec.pad_token = token_content(config, "pad_token");
  }
  if (spec.eos_token.empty())
    for (const auto& added : spec.added_tokens)
      if (added.content == "<|endoftext|>" || added.content == "</s>") spec.eos_token = added.content;
  return make_bpe_tokenizer(std::move(spec));
}

std::unique_ptr<Tokenizer> load_gpt2_vocab_files(const std::string& encoder_json, const std::string& vocab_bpe) {
  BpeSpec spec;
  spec.source = encoder_json;
  const json encoder = read_json(encoder_json);
  VECRL_CHECK(encoder.is_object(), encoder_json, ": expected an object from tokens to ids");
  for (const auto& [token, id] : encoder.items()) {
    VECRL_CHECK(id.is_number_integer(), encoder_json, ": id of '", token, "' is not an integer");
    spec.vocab.emplace_back(token, id.get<int64_t>());
  }
  std::ifstream in(vocab_bpe);
  VECRL_CHECK(in.good(), vocab_bpe, ": cannot open");
  std::string line;
  for (int line_number = 1; std::getline(in, line); ++line_number) {
    if (line.empty() || (line_number == 1 && line.rfind("#version", 0) == 0)) continue;
    const auto space = line.find(' ', 1);
    VECRL_CHECK(space != std::string::npos && line.find(' ', space + 1) == std::string::npos, vocab_bpe, ":",
                line_number, ": expected two tokens separated by one space, found '", line, "'");
    spec.merges.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
  spec.split_patterns.push_back(kGpt2SplitPattern);
  for (const auto& [token, id] : spec.vocab)
    if (token == "<|endoftext|>") spec.added_tokens.push_back({token, id, true, false, false, false});
  spec.vocab.erase(std::remove_if(spec.vocab.begin(), spec.vocab.end(),
                                  [](const auto& entry) { return entry.first == "<|endoftext|>"; }),
                   spec.vocab.end());
  VECRL_CHECK(!spec.added_tokens.empty(), encoder_json, ": no <|endoftext|> token");
  spec.bos_token = spec.eos_token = "<|endoftext|>";
  return make_bpe_tokenizer(std::move(spec));
}

}  // namespace vecrl::models
