// A C-ABI wrapper around libsentencepiece, built as its own MODULE and loaded with
// dlopen(RTLD_LOCAL | RTLD_DEEPBIND).
//
// Why: Debian's libsentencepiece.so bundles and exports its own protobuf 3.14, while LibTorch
// needs the system protobuf 3.21. Linking both into one binary crashes before main() (duplicate
// descriptor registration) or aborts on protobuf's version check. DEEPBIND makes this module and
// libsentencepiece resolve protobuf symbols from sentencepiece's own copy first, and RTLD_LOCAL
// keeps those symbols from leaking into the rest of the process. Only plain C types cross this
// boundary, so no protobuf or std:: object is shared between the two worlds.
#include <sentencepiece_processor.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace {

int64_t copy_out(const std::string& s, char* out, int64_t capacity) {
  if (static_cast<int64_t>(s.size()) <= capacity) std::memcpy(out, s.data(), s.size());
  return static_cast<int64_t>(s.size());
}

}  // namespace

extern "C" {

void* vecrl_spm_open(const char* path, char* error, int64_t error_capacity) {
  auto* processor = new sentencepiece::SentencePieceProcessor();
  const auto status = processor->Load(path);
  if (!status.ok()) {
    const std::string message = status.ToString();
    std::strncpy(error, message.c_str(), static_cast<std::size_t>(error_capacity - 1));
    error[error_capacity - 1] = '\0';
    delete processor;
    return nullptr;
  }
  return processor;
}

void vecrl_spm_close(void* handle) { delete static_cast<sentencepiece::SentencePieceProcessor*>(handle); }

// Returns the number of ids (written only when it fits in `capacity`), or -1 on error.
int64_t vecrl_spm_encode(void* handle, const char* text, int64_t length, int32_t* out, int64_t capacity) {
  std::vector<int> ids;
  const auto status = static_cast<sentencepiece::SentencePieceProcessor*>(handle)->Encode(
      std::string(text, static_cast<std::size_t>(length)), &ids);
  if (!status.ok()) return -1;
  if (static_cast<int64_t>(ids.size()) <= capacity)
    for (std::size_t i = 0; i < ids.size(); ++i) out[i] = ids[i];
  return static_cast<int64_t>(ids.size());
}

// Returns the byte length of the text (written only when it fits), or -1 on error.
int64_t vecrl_spm_decode(void* handle, const int32_t* ids, int64_t count, char* out, int64_t capacity) {
  std::string text;
  const auto status = static_cast<sentencepiece::SentencePieceProcessor*>(handle)->Decode(
      std::vector<int>(ids, ids + count), &text);
  if (!status.ok()) return -1;
  return copy_out(text, out, capacity);
}

int64_t vecrl_spm_id_to_piece(void* handle, int32_t id, char* out, int64_t capacity) {
  return copy_out(static_cast<sentencepiece::SentencePieceProcessor*>(handle)->IdToPiece(id), out, capacity);
}

int32_t vecrl_spm_piece_size(void* handle) {
  return static_cast<sentencepiece::SentencePieceProcessor*>(handle)->GetPieceSize();
}
int32_t vecrl_spm_bos_id(void* handle) { return static_cast<sentencepiece::SentencePieceProcessor*>(handle)->bos_id(); }
int32_t vecrl_spm_eos_id(void* handle) { return static_cast<sentencepiece::SentencePieceProcessor*>(handle)->eos_id(); }

}  // extern "C"
