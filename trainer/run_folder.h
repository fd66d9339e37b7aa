#pragma once
// The run folder shared by `vecrl train` and `vecrl sft`: <output_dir>/<name>/ with config.yaml,
// metrics.jsonl, tensorboard/, checkpoints/ and final/.
#include <cstdint>
#include <optional>
#include <string>

#include "trainer/checkpoint.h"
#include "trainer/run_config.h"

namespace vecrl::trainer {

// The checkpoint to resume from under `checkpoint.resume` (an error when required and there is
// none, or when the config changed in a way a resume cannot honour: resume_check.h). On the main
// process, writes config.yaml and, for a fresh run, clears the metrics, samples and checkpoints an
// earlier run left there.
std::optional<CheckpointPaths> prepare_run_folder(const std::string& run_dir, const std::string& resolved_config,
                                                  const CheckpointOptions& checkpoint, bool is_main);

// The run folder held by one process at a time (flock on <run_dir>/.lock, released when the process
// ends however it ends): a second run into the same folder would interleave metrics and delete
// the first one's checkpoints.
class RunFolderLock {
 public:
  explicit RunFolderLock(const std::string& run_dir);  // throws when another process holds it
  ~RunFolderLock();
  RunFolderLock(const RunFolderLock&) = delete;
  RunFolderLock& operator=(const RunFolderLock&) = delete;

 private:
  int fd_ = -1;
};

// Drops the metrics.jsonl lines of steps after `step` (they are recomputed after a resume).
void drop_metrics_after(const std::string& run_dir, int64_t step);

}  // namespace vecrl::trainer
