#include "algorithms/policy_loss.h"

namespace vecrl::algorithms {

PolicyLossRegistry& policy_loss_registry() {
  static PolicyLossRegistry registry("policy loss");
  return registry;
}

}  // namespace vecrl::algorithms
