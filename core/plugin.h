#pragma once
// Out-of-tree plugins: shared libraries whose registrations (VECRL_REGISTER at file scope) add
// estimators, losses or reward modules. A plugin declares the ABI it was built for with
// VECRL_PLUGIN() in exactly one of its .cpp files; loading checks it.
#include <string>
#include <vector>

// Bumped whenever a registry interface (AdvantageEstimator, PolicyLoss, RewardModule, their input
// structs or the ConfigNode API) changes incompatibly.
// 2: AdvantageInput gained token_penalty and group_keys; PolicyLoss split into surrogate/regularizers.
#define VECRL_PLUGIN_ABI_VERSION 2

#define VECRL_PLUGIN() \
  extern "C" __attribute__((visibility("default"))) int vecrl_plugin_abi_version() { return VECRL_PLUGIN_ABI_VERSION; }

namespace vecrl::core {

// Loads each library (once per process; loading the same path again is a no-op). Throws naming the
// file for a missing file, a load error, a missing vecrl_plugin_abi_version or a different ABI.
void load_plugins(const std::vector<std::string>& paths);

}  // namespace vecrl::core
