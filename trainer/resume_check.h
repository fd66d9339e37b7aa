#pragma once
// What a resume may change. A checkpoint continues a run exactly only under the config it was
// written with; a changed group size, learning rate, estimator, reward option, seed or model gives
// a run that is neither the old one nor a fresh one. So a resume compares the resolved configs and
// refuses changes, except the keys that do not touch the trajectory (more steps, checkpointing,
// evaluation, logging, threads, rendezvous) and those the user accepts in checkpoint.allow_changes.
#include <string>
#include <vector>

namespace vecrl::trainer {

struct ConfigChanges {
  std::vector<std::string> refused;   // "key: old -> new"
  std::vector<std::string> accepted;  // safe or allowed
};

// Both configs as the YAML the run folder keeps (config.yaml). A key in `allowed` also accepts
// every key below it ("optim" accepts optim.lr).
ConfigChanges compare_resumed_config(const std::string& checkpoint_yaml, const std::string& resumed_yaml,
                                     const std::vector<std::string>& allowed);

}  // namespace vecrl::trainer
