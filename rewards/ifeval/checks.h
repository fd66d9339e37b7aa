#pragma once
// The 25 IFEval instruction checks (Zhou et al. 2023, google-research instruction_following_eval),
// written natively from their definitions. Pure functions of the response text and the
// instruction's kwargs; no I/O.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace vecrl::rewards::ifeval {

// The instruction ids, in a fixed order (the reward's dimension order).
const std::vector<std::string>& instruction_ids();

// Strict: whether `response` follows instruction `id` configured by `kwargs` (nulls are ignored).
// Throws core::Error for an unknown id or a missing kwarg.
bool follows_strict(const std::string& id, const nlohmann::json& kwargs, const std::string& response);

// Loose: the strict check passes on any of the response's variants with the first line, the last
// line or both removed, and with or without '*' characters (IFEval's loose accuracy).
bool follows_loose(const std::string& id, const nlohmann::json& kwargs, const std::string& response);

// IFEval's sentence splitter (abbreviations, acronyms, decimals, websites handled), exposed for tests.
std::vector<std::string> split_sentences(const std::string& text);

}  // namespace vecrl::rewards::ifeval
