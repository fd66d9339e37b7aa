#include "agents/tool_call.h"
#include "core/json_input.h"

namespace vecrl::agents {

ParsedTurn parse_tool_call(const std::string& turn, const ToolCallFormat& format) {
  ParsedTurn out;
  const auto open = turn.find(format.start);
  if (open == std::string::npos) return out;
  out.has_call = true;
  const auto body_start = open + format.start.size();
  const auto close = turn.find(format.end, body_start);
  if (close == std::string::npos) {
    out.error = "malformed tool call: no closing " + format.end;
    return out;
  }
  const auto body = turn.substr(body_start, close - body_start);
  auto json = core::try_parse_json(body);
  if (json.is_discarded() || !json.is_object()) {
    out.error = "malformed tool call: the body must be a JSON object {\"name\": ..., \"arguments\": {...}}";
    return out;
  }
  if (!json.contains("name") || !json["name"].is_string() || json["name"].get<std::string>().empty()) {
    out.error = "malformed tool call: \"name\" must be a non-empty string";
    return out;
  }
  ToolCall call;
  call.name = json["name"].get<std::string>();
  if (json.contains("arguments")) {
    auto arguments = json["arguments"];
    if (arguments.is_string()) arguments = core::try_parse_json(arguments.get<std::string>());
    if (arguments.is_discarded() || !arguments.is_object()) {
      out.error = "malformed tool call: \"arguments\" must be a JSON object";
      return out;
    }
    call.arguments = std::move(arguments);
  }
  out.call = std::move(call);
  return out;
}

}  // namespace vecrl::agents
