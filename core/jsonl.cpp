#include "core/jsonl.h"

#include <fstream>

#include "core/error.h"

namespace vecrl::core {

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  VECRL_CHECK(in, path, ": cannot open");
  std::vector<nlohmann::json> records;
  std::string line;
  for (int64_t line_no = 1; std::getline(in, line); ++line_no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json record;
    try {
      record = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw Error(str_cat(path, ":", line_no, ": not valid JSON: ", e.what()));
    }
    VECRL_CHECK(record.is_object(), path, ":", line_no, ": expected a JSON object, found ", record.type_name());
    records.push_back(std::move(record));
  }
  VECRL_CHECK(!records.empty(), path, ": no records");
  return records;
}

}  // namespace vecrl::core
