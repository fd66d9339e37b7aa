#pragma once
// Tool calls in the policy's text. Default format (Hermes / Qwen): 
//   <tool_call>{"name": "calculator", "arguments": {"expression": "12*7"}}</tool_call>
// The tags are configurable; the body is always a JSON object with "name" and "arguments".
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace vecrl::agents {

struct ToolCallFormat {
  std::string start = "<tool_call>";
  std::string end = "</tool_call>";
};

struct ToolCall {
  std::string name;
  nlohmann::json arguments = nlohmann::json::object();
};

// What a turn holds: no call (a final answer), a well-formed call, or a malformed one with the
// reason shown to the model.
struct ParsedTurn {
  bool has_call = false;
  std::optional<ToolCall> call;  // set when the call is well-formed
  std::string error;             // set when it is not
};

// Parses the first tool call of `turn`. `arguments` may also be a JSON-encoded object string (some
// chat templates serialise it that way).
ParsedTurn parse_tool_call(const std::string& turn, const ToolCallFormat& format);

}  // namespace vecrl::agents
