// The dataset reader on arbitrary files as .jsonl, .json and .jsonl.gz (the first byte picks),
// with and without skipping bad records: errors name file and line, nothing crashes.
#include "core/error.h"
#include "core/jsonl.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* kNames[] = {"data.jsonl", "data.json", "data.jsonl.gz"};
  const auto path = vecrl::fuzz::scratch_file(kNames[data[0] % 3], data + 1, size - 1);
  for (bool skip : {false, true}) {
    try {
      vecrl::core::RecordReadOptions options;
      options.skip_bad = skip;
      auto file = vecrl::core::read_records(path, options);
      if (file.records.size() != file.lines.size()) __builtin_trap();  // every record keeps its line
    } catch (const vecrl::core::Error&) {
    }
  }
  return 0;
}
