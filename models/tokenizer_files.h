#pragma once
// The tokenizer formats load_tokenizer chooses between (tokenizer.cpp).
#include <memory>
#include <string>

#include "models/tokenizer.h"

namespace vecrl::models {

std::unique_ptr<Tokenizer> load_sentencepiece_model(const std::string& model_file);
// HF tokenizer.json (byte-level BPE), with tokenizer_config.json read when `config_file` exists.
std::unique_ptr<Tokenizer> load_hf_tokenizer_json(const std::string& tokenizer_json, const std::string& config_file);
// OpenAI's GPT-2 files: encoder.json and the merges in vocab.bpe.
std::unique_ptr<Tokenizer> load_gpt2_vocab_files(const std::string& encoder_json, const std::string& vocab_bpe);

}  // namespace vecrl::models
