#pragma once
// Learning-rate schedules over RL steps (one rollout batch = one step), with linear warm-up.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace vecrl::trainer {

enum class LrSchedule { kConstant, kLinear, kCosine };

const std::vector<std::pair<std::string, LrSchedule>>& lr_schedule_names();

struct LrScheduleSpec {
  LrSchedule kind = LrSchedule::kConstant;
  double base_lr = 1e-4;
  int64_t warmup_steps = 0;   // lr rises linearly over steps 1..warmup_steps
  int64_t total_steps = 1;    // decay reaches min_lr_ratio * base_lr at the last step
  double min_lr_ratio = 0.0;  // floor of the linear and cosine decay
};

// The learning rate of 1-based step `step`.
double learning_rate(const LrScheduleSpec& spec, int64_t step);

}  // namespace vecrl::trainer
