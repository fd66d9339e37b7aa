#pragma once
// The RL step loop: sample prompts -> G rollouts each -> reward vectors -> advantages ->
// micro-batched PPO-style update -> metrics.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "trainer/hooks.h"
#include "trainer/run_config.h"

namespace vecrl::trainer {

struct TrainSummary {
  int64_t steps = 0;
  double first_window_reward = 0;  // mean total reward over the first summary_window steps
  double last_window_reward = 0;   // ... and over the last summary_window steps
  int64_t window = 0;              // summary_window actually used
  int64_t first_step = 1;          // 1, or the step after the checkpoint resumed from
  bool stopped_early = false;      // a stop was requested (SIGTERM); a checkpoint was written
  double seconds = 0;
  std::string run_dir;
};

class RlTrainer {
 public:
  // Builds the model, data, rewards, estimator, loss and optimizer; every config error surfaces
  // here, before any work. Writes the resolved config into the run directory.
  explicit RlTrainer(LoadedConfig loaded);
  ~RlTrainer();

  // Runs all steps. Rank 0's `on_line` receives each human-readable progress line; every rank's
  // `on_step(step, rank)` runs after each step.
  // `should_stop` is polled after each step (all ranks agree on the answer); when it says so the
  // run writes a checkpoint and returns early.
  TrainSummary run(const std::function<void(const std::string&)>& on_line,
                   const std::function<void(int64_t, int64_t)>& on_step = {},
                   const std::function<bool()>& should_stop = {});

  // The last completed step (0 for a fresh run, the checkpoint's step after a resume).
  int64_t completed_steps() const;

  // One RL step (1-based index); returns its metrics. It runs as stages (sample, log-probs,
  // advantages, update, metrics; trainer/step_context.h); an error names the step and the stage.
  core::MetricMap step(int64_t step);

  // Fault injection and step observation for tests (trainer/hooks.h).
  void set_hooks(TrainerHooks hooks);

  const std::string& run_dir() const;
  int64_t rank() const;
  // All policy parameters, flattened (for equivalence tests and checksums).
  std::vector<double> parameter_vector() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace vecrl::trainer
