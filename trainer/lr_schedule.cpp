#include "trainer/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace vecrl::trainer {

const std::vector<std::pair<std::string, LrSchedule>>& lr_schedule_names() {
  static const std::vector<std::pair<std::string, LrSchedule>> names = {
      {"constant", LrSchedule::kConstant}, {"linear", LrSchedule::kLinear}, {"cosine", LrSchedule::kCosine}};
  return names;
}

double learning_rate(const LrScheduleSpec& spec, int64_t step) {
  if (spec.warmup_steps > 0 && step <= spec.warmup_steps)
    return spec.base_lr * static_cast<double>(step) / static_cast<double>(spec.warmup_steps);
  if (spec.kind == LrSchedule::kConstant) return spec.base_lr;
  const int64_t span = std::max<int64_t>(1, spec.total_steps - spec.warmup_steps);
  const double progress = std::clamp(static_cast<double>(step - spec.warmup_steps) / static_cast<double>(span), 0.0, 1.0);
  const double decay = spec.kind == LrSchedule::kLinear ? 1.0 - progress : 0.5 * (1.0 + std::cos(M_PI * progress));
  return spec.base_lr * (spec.min_lr_ratio + (1.0 - spec.min_lr_ratio) * decay);
}

}  // namespace vecrl::trainer
