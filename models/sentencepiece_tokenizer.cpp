// The sentencepiece tokenizer, backed by the real library through spm_shim.cpp (see there for why
// it is loaded with RTLD_DEEPBIND instead of being linked).
#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "core/error.h"
#include "models/tokenizer_files.h"

namespace vecrl::models {
namespace fs = std::filesystem;

namespace {

struct ShimApi {
  void* (*open)(const char*, char*, int64_t);
  void (*close)(void*);
  int64_t (*encode)(void*, const char*, int64_t, int32_t*, int64_t);
  int64_t (*decode)(void*, const int32_t*, int64_t, char*, int64_t);
  int64_t (*id_to_piece)(void*, int32_t, char*, int64_t);
  int32_t (*piece_size)(void*);
  int32_t (*bos_id)(void*);
  int32_t (*eos_id)(void*);
};

std::string shim_path() {
  if (const char* env = std::getenv("VECRL_SPM_SHIM")) return env;
  Dl_info info;
  VECRL_CHECK(dladdr(reinterpret_cast<void*>(&load_tokenizer), &info) != 0 && info.dli_fname != nullptr,
              "cannot locate libvecrl_models to find the sentencepiece shim");
  return (fs::path(info.dli_fname).parent_path() / "libvecrl_spm_shim.so").string();
}

template <class F>
void bind(void* lib, const char* name, F& fn, const std::string& path) {
  void* sym = dlsym(lib, name);
  VECRL_CHECK(sym != nullptr, path, ": missing symbol ", name);
  fn = reinterpret_cast<F>(sym);
}

// ASan's dlopen interceptor refuses RTLD_DEEPBIND outright, because a deep-bound library would
// bypass its malloc interceptors. The shim is built uninstrumented in sanitizer builds and only
// plain buffers that the caller owns cross its boundary (each side frees what it allocated), so the
// sanitizer build calls libc's dlopen directly, behind the interceptor.
void* open_deep_bound(const char* path) {
  constexpr int flags = RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND;
#if defined(__SANITIZE_ADDRESS__)
  using DlopenFn = void* (*)(const char*, int);
  auto libc_dlopen = reinterpret_cast<DlopenFn>(dlsym(RTLD_NEXT, "dlopen"));
  VECRL_CHECK(libc_dlopen != nullptr, "cannot find libc's dlopen behind the sanitizer: ", dlerror());
  return libc_dlopen(path, flags);
#else
  return dlopen(path, flags);
#endif
}

const ShimApi& shim() {
  static ShimApi api;
  static std::once_flag once;
  std::call_once(once, [] {
    const std::string path = shim_path();
    void* lib = open_deep_bound(path.c_str());
    VECRL_CHECK(lib != nullptr, "cannot load the sentencepiece shim ", path, ": ", dlerror());
    bind(lib, "vecrl_spm_open", api.open, path);
    bind(lib, "vecrl_spm_close", api.close, path);
    bind(lib, "vecrl_spm_encode", api.encode, path);
    bind(lib, "vecrl_spm_decode", api.decode, path);
    bind(lib, "vecrl_spm_id_to_piece", api.id_to_piece, path);
    bind(lib, "vecrl_spm_piece_size", api.piece_size, path);
    bind(lib, "vecrl_spm_bos_id", api.bos_id, path);
    bind(lib, "vecrl_spm_eos_id", api.eos_id, path);
  });
  return api;
}

// Calls a shim function that reports the size it needs, growing the buffer once if needed.
template <class T, class Call>
std::vector<T> call_sized(int64_t first_guess, Call call, const char* what) {
  std::vector<T> buffer(static_cast<std::size_t>(std::max<int64_t>(first_guess, 16)));
  int64_t n = call(buffer.data(), static_cast<int64_t>(buffer.size()));
  VECRL_CHECK(n >= 0, "sentencepiece ", what, " failed");
  if (n > static_cast<int64_t>(buffer.size())) {
    buffer.resize(static_cast<std::size_t>(n));
    n = call(buffer.data(), n);
  }
  buffer.resize(static_cast<std::size_t>(n));
  return buffer;
}

class SentencePieceTokenizer : public Tokenizer {
 public:
  explicit SentencePieceTokenizer(const std::string& path) : api_(shim()) {
    char error[512] = {0};
    handle_ = api_.open(path.c_str(), error, sizeof(error));
    VECRL_CHECK(handle_ != nullptr, path, ": cannot load sentencepiece model: ", error);
  }
  ~SentencePieceTokenizer() override { api_.close(handle_); }

  std::vector<int64_t> encode(const std::string& text) const override {
    auto ids = call_sized<int32_t>(
        2 * static_cast<int64_t>(text.size()) + 16,
        [&](int32_t* out, int64_t cap) {
          return api_.encode(handle_, text.data(), static_cast<int64_t>(text.size()), out, cap);
        },
        "encode");
    return std::vector<int64_t>(ids.begin(), ids.end());
  }

  std::string decode(const std::vector<int64_t>& ids) const override {
    std::vector<int32_t> narrow;
    for (auto id : ids) {
      VECRL_CHECK(id >= 0 && id < vocab_size(), "token id ", id, " outside the vocabulary of ", vocab_size());
      narrow.push_back(static_cast<int32_t>(id));
    }
    auto text = call_sized<char>(
        8 * static_cast<int64_t>(ids.size()) + 16,
        [&](char* out, int64_t cap) {
          return api_.decode(handle_, narrow.data(), static_cast<int64_t>(narrow.size()), out, cap);
        },
        "decode");
    return std::string(text.begin(), text.end());
  }

  std::string id_to_piece(int64_t id) const override {
    VECRL_CHECK(id >= 0 && id < vocab_size(), "token id ", id, " outside the vocabulary of ", vocab_size());
    auto text = call_sized<char>(
        64, [&](char* out, int64_t cap) { return api_.id_to_piece(handle_, static_cast<int32_t>(id), out, cap); },
        "id_to_piece");
    return std::string(text.begin(), text.end());
  }

  int64_t vocab_size() const override { return api_.piece_size(handle_); }
  int64_t bos_id() const override { return api_.bos_id(handle_); }
  int64_t eos_id() const override { return api_.eos_id(handle_); }

 private:
  const ShimApi& api_;
  void* handle_ = nullptr;
};

}  // namespace

std::unique_ptr<Tokenizer> load_sentencepiece_model(const std::string& model_file) {
  return std::make_unique<SentencePieceTokenizer>(model_file);
}

}  // namespace vecrl::models
