#include "core/json_input.h"

#include "core/error.h"
#include "core/files.h"

namespace vecrl::core {

int64_t json_nesting_depth(std::string_view text, int64_t stop_after) {
  int64_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest && (deepest = depth) > stop_after) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

nlohmann::json parse_json(std::string_view text, const std::string& where, int64_t max_depth) {
  VECRL_CHECK(json_nesting_depth(text, max_depth) <= max_depth, where, ": JSON nested deeper than ", max_depth,
              " levels of arrays/objects");
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    throw Error(str_cat(where, ": not valid JSON: ", e.what()));
  }
}

nlohmann::json read_json_file(const std::string& path, int64_t max_depth) {
  return parse_json(read_text_file(path), path, max_depth);
}

nlohmann::json try_parse_json(std::string_view text, int64_t max_depth) {
  if (json_nesting_depth(text, max_depth) > max_depth) return nlohmann::json(nlohmann::json::value_t::discarded);
  return nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
}

}  // namespace vecrl::core
