#pragma once
// The SFT loop: batches of examples -> response-only negative log-likelihood (token mean over the
// batch) -> AdamW with the run's schedule and clipping; metrics, checkpoints, resume and the final
// HF export as in RL training, so an SFT run's `final/` folder is the `model.path` of an RL run.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "trainer/sft_config.h"

namespace vecrl::trainer {

struct SftSummary {
  int64_t steps = 0;          // total steps of the run
  int64_t first_step = 1;
  double first_loss = 0;      // loss of the first step run by this process
  double last_loss = 0;
  double seconds = 0;
  bool stopped_early = false;
  std::string run_dir;
};

class SftTrainer {
 public:
  explicit SftTrainer(LoadedSftConfig loaded);
  ~SftTrainer();

  SftSummary run(const std::function<void(const std::string&)>& on_line, const std::function<bool()>& should_stop = {});
  core::MetricMap step(int64_t step);
  int64_t total_steps() const;
  const std::string& run_dir() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace vecrl::trainer
