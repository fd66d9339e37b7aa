#pragma once
// Multi-turn environments for agent rollouts. The agent loop (agent_loop.h) asks the environment
// for an episode per rollout, then alternates: the policy writes a turn, the episode answers it.
// One file per environment, registered by name at its bottom:
// VECRL_REGISTER(environment_registry(), "tools", factory). Plugins add their own the same way.
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/registry.h"

namespace vecrl::agents {

// The environment's answer to one assistant turn.
struct EnvStep {
  bool done = true;          // the turn ended the episode (a final answer); nothing is appended
  std::string observation;   // otherwise: the text of the tool-response turn the model reads next
  bool tool_call = false;    // the turn called a tool (counted, even when the call was malformed)
  bool failed = false;       // ... and the call failed: malformed, unknown tool, or the tool errored
};

// One rollout's episode; used by one thread at a time.
class Episode {
 public:
  virtual ~Episode() = default;
  // `turn` is the text the policy wrote in this turn (without the chat markup around it).
  virtual EnvStep step(const std::string& turn) = 0;
};

class Environment {
 public:
  virtual ~Environment() = default;
  // A fresh episode for a dataset record. Called from several threads at once.
  virtual std::unique_ptr<Episode> reset(const nlohmann::json& sample) const = 0;
  // Generation pauses after a turn's text contains one of these (e.g. "</tool_call>"), besides the
  // chat format's end-of-turn tokens.
  virtual std::vector<std::string> stop_strings() const = 0;
};

using EnvironmentRegistry = core::Registry<Environment, core::ConfigNode&>;
EnvironmentRegistry& environment_registry();

}  // namespace vecrl::agents
