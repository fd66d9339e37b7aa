#pragma once
// JSON from outside (datasets, model folders, checkpoints, request bodies, the policy's own output)
// behind one guard. nlohmann's parser copes with any depth, but printing, copying and comparing a
// value recurse once per level: a record nested 100,000 deep parses and then crashes the run when
// it is copied into a batch. So every reader refuses text nested deeper than a limit, found by one
// scan that skips strings, before it parses.
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace vecrl::core {

// The default limit for vecrl's readers: far deeper than any dataset, config or request needs.
constexpr int64_t kMaxJsonDepth = 256;

// Nesting depth of arrays and objects outside strings: "1" is 0, "[[1]]" is 2. Stops counting once
// past `stop_after` (the caller's limit) and returns that count.
int64_t json_nesting_depth(std::string_view text, int64_t stop_after = INT64_MAX);

// The parsed text, or an Error "<where>: not valid JSON: ..." / "<where>: nested deeper than ...".
nlohmann::json parse_json(std::string_view text, const std::string& where, int64_t max_depth = kMaxJsonDepth);

// The same from a file, named in the error.
nlohmann::json read_json_file(const std::string& path, int64_t max_depth = kMaxJsonDepth);

// The parsed text, or a discarded value when it is not valid JSON or nested too deep (for text the
// policy wrote, where invalid is an answer, not an error).
nlohmann::json try_parse_json(std::string_view text, int64_t max_depth = kMaxJsonDepth);

}  // namespace vecrl::core
