// The safetensors reader on arbitrary bytes: header lengths past the end, overlapping or
// out-of-range offsets, bad dtypes and shapes must all be core::Error, never a crash or an
// out-of-bounds read (AddressSanitizer watches).
#include "core/error.h"
#include "core/safetensors.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = vecrl::fuzz::scratch_file("model.safetensors", data, size);
  try {
    auto tensors = vecrl::core::read_safetensors(path);
    for (auto& [name, tensor] : tensors) (void)tensor.sum();  // touch every byte that was accepted
  } catch (const vecrl::core::Error&) {
  }
  return 0;
}
