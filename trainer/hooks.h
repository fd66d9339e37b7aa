#pragma once
// Injection points for tests: fault injection and observing what a step computed. All optional;
// the trainers behave the same with none set.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace vecrl::trainer {

struct StepContext;

struct TrainerHooks {
  // Runs on the summed gradients of an update just before clipping and the optimizer step (to
  // poison or scale them).
  std::function<void(int64_t step, const std::vector<at::Tensor>& params)> before_optimizer_step;
  // Runs at the end of each RL step with everything the step computed.
  std::function<void(const StepContext&)> after_step;
  // Runs while the checkpoint of `step` is half written: weights and optimizer state on disk,
  // nothing marking it complete (a crash here must leave the earlier checkpoints usable).
  std::function<void(int64_t step)> during_checkpoint;
};

}  // namespace vecrl::trainer
