#pragma once
// The run folder shared by `vecrl train` and `vecrl sft`: <output_dir>/<name>/ with config.yaml,
// metrics.jsonl, tensorboard/, checkpoints/ and final/.
#include <cstdint>
#include <optional>
#include <string>

#include "trainer/checkpoint.h"
#include "trainer/run_config.h"

namespace vecrl::trainer {

// The checkpoint to resume from under `resume` (an error when required and there is none). On the
// main process, writes config.yaml and, for a fresh run, clears the metrics, samples and
// checkpoints an earlier run left there.
std::optional<CheckpointPaths> prepare_run_folder(const std::string& run_dir, const std::string& resolved_config,
                                                  ResumeMode resume, bool is_main);

// Drops the metrics.jsonl lines of steps after `step` (they are recomputed after a resume).
void drop_metrics_after(const std::string& run_dir, int64_t step);

}  // namespace vecrl::trainer
