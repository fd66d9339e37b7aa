// The real Qwen3 byte-level BPE (tokenizer.json from ../shared/data) on arbitrary text: no crash,
// every id inside the vocabulary, and decode(encode(s)) == s for ASCII text without '<|'.
#include <cstdlib>

#include "models/tokenizer.h"

namespace {
const vecrl::models::Tokenizer& qwen3() {
  static const auto tokenizer = vecrl::models::load_tokenizer(
      std::getenv("VECRL_FUZZ_TOKENIZER") ? std::getenv("VECRL_FUZZ_TOKENIZER") : "../shared/data/tokenizers/qwen3");
  return *tokenizer;
}
}  // namespace

// Loading the 151,936-token vocabulary takes ~7 s under the sanitizers; done here it is not charged to
// the first input against libFuzzer's per-input -timeout (10 s), which a loaded machine then missed.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  qwen3();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto& tok = qwen3();
  const auto ids = tok.encode(text);
  for (auto id : ids)
    if (id < 0 || id >= tok.vocab_size()) __builtin_trap();
  const auto back = tok.decode(ids);
  bool ascii = text.find("<|") == std::string::npos && text.find('<') == std::string::npos;
  for (unsigned char c : text) ascii = ascii && c < 0x80;
  if (ascii && back != text) __builtin_trap();
  return 0;
}
