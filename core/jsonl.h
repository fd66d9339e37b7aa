#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace vecrl::core {

struct RecordReadOptions {
  bool skip_bad = false;       // skip (and count) malformed records instead of failing
  int64_t max_line_bytes = 64 << 20;  // longer lines are malformed
};

struct RecordFile {
  std::vector<nlohmann::json> records;
  std::vector<int64_t> lines;  // the line (JSONL) or index (JSON) of each record, 1-based
  int64_t skipped = 0;
};

// Records of a dataset file by its extension: .jsonl, .jsonl.gz (or .json.gz lines) or .json (a list
// of objects). Every record must be a JSON object. Errors name the file and line (or item).
RecordFile read_records(const std::string& path, const RecordReadOptions& options = {});

}  // namespace vecrl::core
