#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace vecrl::core {

// Reads a JSON Lines file (one object per non-blank line). Errors name the file and line.
std::vector<nlohmann::json> read_jsonl(const std::string& path);

}  // namespace vecrl::core
