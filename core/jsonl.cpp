#include "core/jsonl.h"
#include "core/json_input.h"

#include <zlib.h>

#include <fstream>
#include <functional>
#include <memory>
#include <vector>

#include "core/error.h"

namespace vecrl::core {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Calls `line(text, number, length)` for every line of a plain or gzip-compressed file. A line
// longer than `max_bytes` is never held whole (a 2 MB .gz can hold a 2 GB line): `text` keeps its
// first max_bytes + 1 bytes and `length` counts all of them.
void for_each_line(const std::string& path, bool gz, int64_t max_bytes,
                   const std::function<void(const std::string&, int64_t, int64_t)>& line) {
  std::ifstream plain;
  // Closed on every path, the callback's exceptions included.
  std::unique_ptr<gzFile_s, int (*)(gzFile)> compressed(nullptr, gzclose);
  if (gz) {
    compressed.reset(gzopen(path.c_str(), "rb"));
    VECRL_CHECK(compressed != nullptr, path, ": cannot open");
  } else {
    plain.open(path, std::ios::binary);
    VECRL_CHECK(plain, path, ": cannot open");
  }
  // gzread, not gzgets: a NUL byte inside a line must not end it.
  auto read_chunk = [&](char* into, unsigned size) -> int {
    if (gz) return gzread(compressed.get(), into, size);
    plain.read(into, size);
    return static_cast<int>(plain.gcount());
  };
  std::string text;
  int64_t length = 0, n = 1;
  std::vector<char> buf(1 << 16);
  for (int got; (got = read_chunk(buf.data(), static_cast<unsigned>(buf.size()))) > 0;) {
    for (int i = 0; i < got; ++i) {
      const char c = buf[static_cast<std::size_t>(i)];
      if (c != '\n') {
        if (length++ <= max_bytes) text.push_back(c);
        continue;
      }
      if (!text.empty() && text.back() == '\r') text.pop_back();
      line(text, n++, length);
      text.clear();
      length = 0;
    }
  }
  if (gz) {
    int err = 0;
    const char* msg = gzerror(compressed.get(), &err);
    VECRL_CHECK(err == Z_OK || err == Z_STREAM_END, path, ": corrupt gzip data: ", msg);
  }
  if (length > 0) line(text, n, length);
}

RecordFile read_records_counting(const std::string& path, const RecordReadOptions& options, int64_t& line_reached) {
  RecordFile out;
  auto bad = [&](const std::string& message) {
    if (!options.skip_bad) throw Error(message);
    ++out.skipped;
  };
  if (ends_with(path, ".json")) {
    const nlohmann::json doc = read_json_file(path);
    VECRL_CHECK(doc.is_array(), path, ": a .json dataset must be a list of objects, found ", doc.type_name());
    for (std::size_t i = 0; i < doc.size(); ++i) {
      if (!doc[i].is_object()) {
        bad(str_cat(path, ": item ", i + 1, ": expected a JSON object, found ", doc[i].type_name()));
        continue;
      }
      out.records.push_back(std::move(doc[i]));
      out.lines.push_back(line_reached = static_cast<int64_t>(i + 1));
    }
  } else {
    const bool gz = ends_with(path, ".gz");
    for_each_line(path, gz, options.max_line_bytes, [&](const std::string& text, int64_t n, int64_t length) {
      line_reached = n;
      if (length > options.max_line_bytes) {
        bad(str_cat(path, ":", n, ": line of ", length, " bytes exceeds the limit of ", options.max_line_bytes));
        return;
      }
      if (text.find_first_not_of(" \t\r") == std::string::npos) return;
      if (json_nesting_depth(text, kMaxJsonDepth) > kMaxJsonDepth) {
        bad(str_cat(path, ":", n, ": JSON nested deeper than ", kMaxJsonDepth, " levels of arrays/objects"));
        return;
      }
      nlohmann::json record = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (record.is_discarded()) {
        bad(str_cat(path, ":", n, ": not valid JSON"));
        return;
      }
      if (!record.is_object()) {
        bad(str_cat(path, ":", n, ": expected a JSON object, found ", record.type_name()));
        return;
      }
      out.records.push_back(std::move(record));
      out.lines.push_back(n);
    });
  }
  VECRL_CHECK(!out.records.empty(), path, ": no records", out.skipped ? str_cat(" (", out.skipped, " skipped)") : "");
  return out;
}

}  // namespace

RecordFile read_records(const std::string& path, const RecordReadOptions& options) {
  int64_t line_reached = 0;
  return naming_allocation_failure([&] { return str_cat(path, " (at record ", line_reached, ")"); },
                                   [&] { return read_records_counting(path, options, line_reached); });
}

}  // namespace vecrl::core
