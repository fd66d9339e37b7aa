// tools: the tool-use environment. A turn with a tool call (tool_call.h) runs the named tool and
// shows its output to the model; a turn without one is the final answer. Malformed calls, unknown
// tools and tools that throw or fail become an error message for the model, never a crash.
#include "agents/environment.h"
#include "agents/tool.h"
#include "agents/tool_call.h"

#include <map>

namespace vecrl::agents {
namespace {

struct ToolEnvironmentOptions {
  std::vector<core::ComponentSpec> tools;
  ToolCallFormat format;
  int64_t max_observation_chars = 2000;  // a longer tool output is cut (its end kept)

  template <class V>
  void visit(V& v) {
    v.component_list("tools", tools);
    v.field("call_start", format.start);
    v.field("call_end", format.end);
    v.field("max_observation_chars", max_observation_chars);
    v.require(!tools.empty(), "tools", "needs at least one tool, e.g. [{type: calculator}]; registered: " +
                                           tool_registry().joined_names());
    v.require(!format.start.empty() && !format.end.empty(), "call_start", "the call tags must be non-empty");
    v.require(max_observation_chars >= 16, "max_observation_chars",
              core::str_cat("must be >= 16, got ", max_observation_chars));
  }
};

class ToolEnvironment : public Environment {
 public:
  explicit ToolEnvironment(ToolEnvironmentOptions o) : o_(std::move(o)) {
    for (const auto& spec : o_.tools) {
      std::string name = spec.type;
      if (spec.node->has("name")) spec.node->field("name", name);  // two configurations of one tool
      VECRL_CHECK(!tools_.count(name), spec.node->location("type"), ": tool '", name,
                  "' is listed twice (give one a different `name`)");
      tools_.emplace(name, core::create_component(tool_registry(), spec));
    }
  }

  std::unique_ptr<Episode> reset(const nlohmann::json&) const override { return std::make_unique<ToolEpisode>(*this); }
  std::vector<std::string> stop_strings() const override { return {o_.format.end}; }

 private:
  class ToolEpisode : public Episode {
   public:
    explicit ToolEpisode(const ToolEnvironment& env) : env_(env) {}
    EnvStep step(const std::string& turn) override { return env_.answer(turn); }

   private:
    const ToolEnvironment& env_;
  };

  EnvStep answer(const std::string& turn) const {
    const auto parsed = parse_tool_call(turn, o_.format);
    if (!parsed.has_call) return EnvStep{};  // an answer: the episode ends
    if (!parsed.call) return failure(parsed.error);
    auto it = tools_.find(parsed.call->name);
    if (it == tools_.end()) return failure("unknown tool '" + parsed.call->name + "'; available: " + names());
    try {
      auto result = it->second->call(parsed.call->arguments);
      return observation(result.output, !result.ok);
    } catch (const std::exception& e) {
      return failure(e.what());
    }
  }

  // A tool call's turn: the episode goes on with the tool's (clipped) answer.
  EnvStep observation(const std::string& text, bool failed) const {
    EnvStep out;
    out.done = false;
    out.tool_call = true;
    out.failed = failed;
    out.observation = keep_tail(text, static_cast<std::size_t>(o_.max_observation_chars));
    return out;
  }

  EnvStep failure(const std::string& message) const { return observation("error: " + message, true); }

  std::string names() const {
    std::string out;
    for (const auto& [name, tool] : tools_) out += (out.empty() ? "" : ", ") + name;
    return out;
  }

  ToolEnvironmentOptions o_;
  std::map<std::string, std::unique_ptr<Tool>> tools_;
};

}  // namespace

VECRL_REGISTER(environment_registry(), "tools",
               (core::make_configured<Environment, ToolEnvironmentOptions, ToolEnvironment>));

}  // namespace vecrl::agents
