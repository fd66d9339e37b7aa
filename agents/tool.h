#pragma once
// Tools an agent may call during a rollout. One file per tool under tools/, registered by name at
// its bottom: VECRL_REGISTER(tool_registry(), "calculator", factory). A tool runs on a worker
// thread, possibly for several rollouts at once, so call() must be thread-safe.
#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "core/config.h"
#include "core/registry.h"

namespace vecrl::agents {

struct ToolResult {
  std::string output;  // what the model reads in the tool-response turn
  bool ok = true;      // false: the tool failed (bad arguments, a program that crashed, ...)
};

class Tool {
 public:
  virtual ~Tool() = default;
  // One line for the model's system prompt / the docs.
  virtual std::string description() const = 0;
  // `arguments` is the call's JSON object. Throwing is a failure too: the message is shown to the
  // model as the tool's output.
  virtual ToolResult call(const nlohmann::json& arguments) const = 0;
};

using ToolRegistry = core::Registry<Tool, core::ConfigNode&>;
// Factories read their tool's options and must call node.finish().
ToolRegistry& tool_registry();

// The last `limit` characters of `text`, marked with a leading "..." when anything was cut: the
// end of a tool's output is what tells the model how it went.
std::string keep_tail(const std::string& text, std::size_t limit);

// The string argument `name` of a call, or an error naming the tool and the argument.
std::string string_argument(const nlohmann::json& arguments, const std::string& name, const std::string& tool);

}  // namespace vecrl::agents
