#include "agents/environment.h"

namespace vecrl::agents {

EnvironmentRegistry& environment_registry() {
  static EnvironmentRegistry registry("environment");
  return registry;
}

}  // namespace vecrl::agents
