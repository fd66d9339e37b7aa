#pragma once
// What every training run owns, RL and SFT alike: logging and threads, the policy (and reference)
// runner, AdamW with the learning-rate schedule, gradient clipping, skipping of non-finite updates
// and spike flags, the run folder with its checkpoints (save and exact resume), and the metric
// sinks. The trainers add only their own step.
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "trainer/grad_norm_monitor.h"
#include "trainer/hooks.h"
#include "trainer/run_folder.h"
#include "trainer/run_config.h"

namespace torch::optim {
class AdamW;
}
namespace vecrl::models {
class PolicyRunner;
}

namespace vecrl::trainer {

struct SessionOptions {
  RunOptions run;
  ModelOptions model;
  OptimOptions optim;
  CheckpointOptions checkpoint;
  std::string resolved_config{};  // written into the run folder and every checkpoint
  int threads = 1;              // LibTorch threads, already resolved
  int64_t total_steps = 1;      // the schedule's length
  bool load_reference = false;
  c10::Device device{c10::kCPU};
  bool is_main = true;          // writes the run folder, checkpoints and metrics
  TrainerHooks hooks{};
};

// How one optimizer step went.
struct GradientStep {
  double grad_norm = 0;  // before clipping; non-finite when skipped
  bool clipped = false;
  bool spike = false;    // far above the recent median (GradNormMonitor)
  bool skipped = false;  // non-finite: the weights were left as they were
};

class TrainingSession {
 public:
  // Sets up logging, threads, the seed, the runner on its device and the optimizer.
  explicit TrainingSession(SessionOptions options);
  ~TrainingSession();

  // Prepares the run folder (config.yaml; a fresh run clears what an earlier one left) and, when
  // resuming, loads the checkpoint's weights, optimizer state and gradient-norm history and returns
  // its state.json for the trainer's own parts; the run's step is then the checkpoint's.
  std::optional<nlohmann::json> open_run_folder();
  // metrics.jsonl and TensorBoard (main process only). After open_run_folder on every rank.
  void open_sinks();

  models::PolicyRunner& runner() { return *runner_; }
  std::vector<at::Tensor> parameters() const;
  const std::string& run_dir() const { return run_dir_; }
  const SessionOptions& options() const { return options_; }
  int threads() const { return threads_; }  // LibTorch threads in use
  void set_hooks(TrainerHooks hooks) { options_.hooks = std::move(hooks); }
  int64_t completed_steps() const { return completed_; }
  void set_completed_steps(int64_t step) { completed_ = step; }

  // Sets the optimizer's learning rate for `step` and returns it.
  double set_learning_rate(int64_t step);
  void zero_grad();
  // Clips the gradients to optim.max_grad_norm and steps the optimizer, unless their norm is not
  // finite (then they are dropped and the weights stay as they were); flags spikes.
  GradientStep apply_gradients(int64_t step);

  // Writes a checkpoint of the completed steps with the trainer's `state` (main process only; a
  // second call for the same step is a no-op).
  void save_checkpoint(nlohmann::json state);
  void write_metrics(int64_t step, const core::MetricMap& metrics);
  // The policy as a HuggingFace folder <run_dir>/final (main process only).
  void export_final_model();
  // The run is over: closes the metric files and frees the run folder for the next run.
  void release_run_folder();

 private:
  void check_lora_base(const nlohmann::json& state, const std::string& checkpoint_dir) const;

  SessionOptions options_;
  std::string run_dir_;
  std::unique_ptr<models::PolicyRunner> runner_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  std::vector<std::unique_ptr<core::MetricSink>> sinks_;
  std::unique_ptr<RunFolderLock> lock_;  // main process: the run folder is ours while we run
  GradNormMonitor grad_monitor_;
  int threads_ = 1;
  int64_t completed_ = 0;
  int64_t last_saved_ = -1;
  std::string lora_base_fingerprint_;  // of the base the LoRA policy was built on (empty: no LoRA)
};

}  // namespace vecrl::trainer
