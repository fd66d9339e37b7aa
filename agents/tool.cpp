#include "agents/tool.h"

namespace vecrl::agents {

ToolRegistry& tool_registry() {
  static ToolRegistry registry("tool");
  return registry;
}

std::string string_argument(const nlohmann::json& arguments, const std::string& name, const std::string& tool) {
  VECRL_CHECK(arguments.is_object(), tool, ": arguments must be a JSON object, got ", arguments.dump());
  auto it = arguments.find(name);
  VECRL_CHECK(it != arguments.end(), tool, ": missing argument \"", name, "\"");
  VECRL_CHECK(it->is_string(), tool, ": argument \"", name, "\" must be a string, got ", it->dump());
  return it->get<std::string>();
}

std::string keep_tail(const std::string& text, std::size_t limit) {
  return text.size() <= limit ? text : "..." + text.substr(text.size() - limit);
}

}  // namespace vecrl::agents
