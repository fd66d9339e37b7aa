#pragma once
// Run checkpoints: <run_dir>/checkpoints/step_NNNNNNNN/ holding the policy (HF tensor names), the
// optimizer state, the trainer state (step, data cursor, format version) and the resolved config.
// Writes go to a temporary folder that is fsynced and renamed into place, so a writer killed at
// any moment leaves the previous checkpoints intact and loadable.
#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace torch::optim {
class Optimizer;
}

namespace vecrl::trainer {

constexpr int kCheckpointFormatVersion = 1;

struct CheckpointPaths {
  std::string dir;  // the checkpoint folder
  int64_t step = 0;
};

// Complete checkpoints of a run, oldest first (temporary and partial folders are ignored).
std::vector<CheckpointPaths> list_checkpoints(const std::string& run_dir);
std::optional<CheckpointPaths> latest_checkpoint(const std::string& run_dir);

struct CheckpointContents {
  std::map<std::string, at::Tensor> policy;  // HF names
  nlohmann::json state;                      // {"format_version", "step", "data", ...}
  std::string config_yaml;
};

// Writes atomically and keeps the newest `keep_last`. Returns the folder written. `half_written`
// runs once the weights and optimizer state are on disk and nothing marks the checkpoint complete
// (a test's crash point).
std::string write_checkpoint(const std::string& run_dir, int64_t step, const CheckpointContents& contents,
                             torch::optim::Optimizer& optimizer, int64_t keep_last,
                             const std::function<void()>& half_written = {});

// Reads a checkpoint folder; the optimizer's state is loaded in place. Throws naming the folder.
CheckpointContents read_checkpoint(const std::string& dir, torch::optim::Optimizer& optimizer);

}  // namespace vecrl::trainer
