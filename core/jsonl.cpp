#include "core/jsonl.h"

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

// Calls `line(text, number)` for every line of a plain or gzip-compressed file.
void for_each_line(const std::string& path, bool gz, const std::function<void(const std::string&, int64_t)>& line) {
  if (!gz) {
    std::ifstream in(path);
    VECRL_CHECK(in, path, ": cannot open");
    std::string text;
    for (int64_t n = 1; std::getline(in, text); ++n) line(text, n);
    return;
  }
  // Closed on every path, the callback's exceptions included.
  std::unique_ptr<gzFile_s, int (*)(gzFile)> f(gzopen(path.c_str(), "rb"), gzclose);
  VECRL_CHECK(f != nullptr, path, ": cannot open");
  std::string text;
  std::vector<char> buf(1 << 16);
  int64_t n = 1;
  // gzread, not gzgets: a NUL byte inside a line must not end it.
  for (int got; (got = gzread(f.get(), buf.data(), static_cast<unsigned>(buf.size()))) > 0;) {
    for (int i = 0; i < got; ++i) {
      if (buf[static_cast<std::size_t>(i)] != '\n') {
        text.push_back(buf[static_cast<std::size_t>(i)]);
        continue;
      }
      line(text, n++);
      text.clear();
    }
  }
  int err = 0;
  const char* msg = gzerror(f.get(), &err);
  VECRL_CHECK(err == Z_OK || err == Z_STREAM_END, path, ": corrupt gzip data: ", msg);
  if (!text.empty()) line(text, n);
}

}  // namespace

RecordFile read_records(const std::string& path, const RecordReadOptions& options) {
  RecordFile out;
  auto bad = [&](const std::string& message) {
    if (!options.skip_bad) throw Error(message);
    ++out.skipped;
  };
  if (ends_with(path, ".json")) {
    std::ifstream in(path);
    VECRL_CHECK(in, path, ": cannot open");
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw Error(str_cat(path, ": not valid JSON: ", e.what()));
    }
    VECRL_CHECK(doc.is_array(), path, ": a .json dataset must be a list of objects, found ", doc.type_name());
    for (std::size_t i = 0; i < doc.size(); ++i) {
      if (!doc[i].is_object()) {
        bad(str_cat(path, ": item ", i + 1, ": expected a JSON object, found ", doc[i].type_name()));
        continue;
      }
      out.records.push_back(std::move(doc[i]));
      out.lines.push_back(static_cast<int64_t>(i + 1));
    }
  } else {
    const bool gz = ends_with(path, ".gz");
    for_each_line(path, gz, [&](const std::string& text, int64_t n) {
      if (text.find_first_not_of(" \t\r") == std::string::npos) return;
      if (static_cast<int64_t>(text.size()) > options.max_line_bytes) {
        bad(str_cat(path, ":", n, ": line of ", text.size(), " bytes exceeds the limit of ", options.max_line_bytes));
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

}  // namespace vecrl::core
